"""Booking a course: series expansion across DST, skips, conflicts, dry run."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


def book(api, **body):
    return api.post("/api/courses", json=body)


@pytest.fixture
def basics(make_clinician, make_room, make_client):
    return {"clinician_id": make_clinician(), "room_id": make_room(),
            "client_ids": [make_client()]}


def test_books_a_weekly_series(desk, basics):
    r = book(desk, **basics, first_date="2030-03-04", start_time="10:00",
             duration_minutes=50, session_count=16)
    assert r.status_code == 201, r.json
    body = r.json
    assert len(body["sessions"]) == 16
    assert body["sessions"][0]["starts_at"] == "2030-03-04T10:00:00+00:00"
    assert body["sessions"][-1]["number"] == 16
    assert body["skipped"] == []
    assert body["progress"]["label"] == "session 1 of 16"


@pytest.mark.parametrize("zone,first,count,offsets", [
    ("America/New_York", "2026-02-23", 4, ["-05:00", "-05:00", "-04:00", "-04:00"]),
    ("America/New_York", "2026-10-19", 4, ["-04:00", "-04:00", "-05:00", "-05:00"]),
    ("Europe/London", "2026-03-16", 4, ["+00:00", "+00:00", "+01:00", "+01:00"]),
    ("Europe/London", "2026-10-12", 4, ["+01:00", "+01:00", "+00:00", "+00:00"]),
    ("Australia/Sydney", "2026-03-23", 4, ["+11:00", "+11:00", "+10:00", "+10:00"]),
    ("Australia/Sydney", "2026-09-21", 4, ["+10:00", "+10:00", "+11:00", "+11:00"]),
])
def test_local_time_is_kept_across_dst(app, desk, basics, zone, first, count, offsets):
    app.config["PRACTICE_TIMEZONE"] = zone
    r = book(desk, **basics, first_date=first, start_time="17:00", duration_minutes=50,
             session_count=count)
    assert r.status_code == 201, r.json
    starts = [s["starts_at"] for s in r.json["sessions"]]
    assert [s[11:19] for s in starts] == ["17:00:00"] * count
    assert [s[-6:] for s in starts] == offsets


def test_new_york_series_clashes_with_one_off_at_the_right_instant(app, desk, basics,
                                                                    make_client):
    app.config["PRACTICE_TIMEZONE"] = "America/New_York"
    r = book(desk, **basics, first_date="2026-03-02", start_time="17:00", duration_minutes=50,
             session_count=4)
    assert r.status_code == 201, r.json
    # 21:00Z on 2026-03-09 is 17:00 EDT: the second Monday session.
    one_off = dict(basics, client_ids=[make_client()])
    clash = book(desk, **one_off, first_date="2026-03-09", start_time="17:00",
                 duration_minutes=50, session_count=1)
    assert clash.status_code == 409
    # 21:00Z on 2026-03-02 is 16:00 EST: free.
    free = book(desk, **one_off, first_date="2026-03-02", start_time="16:00",
                duration_minutes=50, session_count=1)
    assert free.status_code == 201, free.json
    assert free.json["sessions"][0]["starts_at"] == "2026-03-02T16:00:00-05:00"


def test_spring_forward_gap_is_refused(app, desk, basics):
    app.config["PRACTICE_TIMEZONE"] = "America/New_York"
    r = book(desk, **basics, first_date="2026-03-01", start_time="02:30", duration_minutes=50,
             session_count=3)
    assert r.status_code == 422
    assert r.json["violations"][0]["rule"] == "time.nonexistent"


def test_fall_back_ambiguous_time_takes_first(app, desk, basics):
    app.config["PRACTICE_TIMEZONE"] = "America/New_York"
    r = book(desk, **basics, first_date="2026-11-01", start_time="01:30", duration_minutes=30,
             session_count=1)
    assert r.status_code == 201, r.json
    assert r.json["sessions"][0]["starts_at"] == "2026-11-01T01:30:00-04:00"


def test_closure_and_absence_are_skipped_and_moved_to_the_end(desk, admin_api, basics):
    assert admin_api.post("/api/closures", json={"date": "2030-03-11", "reason": "Training"}).status_code == 201
    cid = basics["clinician_id"]
    assert admin_api.post(f"/api/clinicians/{cid}/absences",
                          json={"start_date": "2030-03-25", "end_date": "2030-03-25"}).status_code == 201
    r = book(desk, **basics, first_date="2030-03-04", start_time="10:00", duration_minutes=50,
             session_count=4)
    assert r.status_code == 201, r.json
    dates = [s["starts_at"][:10] for s in r.json["sessions"]]
    assert dates == ["2030-03-04", "2030-03-18", "2030-04-01", "2030-04-08"]
    assert [s["date"] for s in r.json["skipped"]] == ["2030-03-11", "2030-03-25"]
    assert r.json["skipped"][0]["reason"].startswith("closure")
    assert r.json["skipped"][1]["reason"].startswith("absence")


def test_conflict_lists_every_clash_and_writes_nothing(desk, basics, make_client, make_clinician):
    first = book(desk, **basics, first_date="2030-03-04", start_time="10:00",
                 duration_minutes=50, session_count=16)
    assert first.status_code == 201
    other = {"clinician_id": make_clinician(), "room_id": basics["room_id"],
             "client_ids": [make_client()]}
    r = book(desk, **other, first_date="2030-02-25", start_time="10:30", duration_minutes=50,
             session_count=4)
    assert r.status_code == 409
    body = r.json
    assert body["error"] == "conflict"
    assert [c["number"] for c in body["conflicts"]] == [2, 3, 4]
    clash = body["conflicts"][0]
    assert clash["clashes_with"] == ["room"]
    assert clash["clashes"][0]["session"]["course_id"] == first.json["id"]
    assert "free_rooms" in clash["suggestions"] and "nearest_times" in clash["suggestions"]
    assert desk.get("/api/courses").json["total"] == 1


def test_half_open_intervals_do_not_clash(desk, basics, make_client):
    assert book(desk, **basics, first_date="2030-03-04", start_time="10:00",
                duration_minutes=50, session_count=2).status_code == 201
    r = book(desk, **dict(basics, client_ids=[make_client()]), first_date="2030-03-04",
             start_time="10:50", duration_minutes=50, session_count=2)
    assert r.status_code == 201, r.json


def test_dry_run_writes_nothing(desk, basics):
    r = book(desk, **basics, first_date="2030-03-04", start_time="10:00", duration_minutes=50,
             session_count=3, dry_run=True)
    assert r.status_code == 200, r.json
    assert len(r.json["sessions"]) == 3 and r.json["conflicts"] == []
    assert desk.get("/api/courses").json["total"] == 0


def test_past_booking_warns(desk, basics):
    r = book(desk, **basics, first_date="2020-03-02", start_time="10:00", duration_minutes=50,
             session_count=2)
    assert r.status_code == 201
    assert any(w["rule"] == "schedule.past" for w in r.json["warnings"])
