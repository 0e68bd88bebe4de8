"""The availability search over HTTP."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


def test_finds_free_weekly_slots_best_first(desk, make_clinician, make_room, make_client):
    c = make_clinician(hours=[(1, time(10), time(12))])  # Tuesdays 10-12
    room = make_room()
    booked = desk.post("/api/courses", json={
        "clinician_id": c, "room_id": room, "client_ids": [make_client()],
        "first_date": "2030-03-12", "start_time": "10:00", "duration_minutes": 60,
        "session_count": 1})
    assert booked.status_code == 201
    r = desk.get(f"/api/availability?clinician_id={c}&weeks=4&duration_minutes=60&from=2030-03-05")
    assert r.status_code == 200, r.json
    slots = r.json["slots"]
    assert slots, "expected free slots"
    # 10:00 and 10:15... are blocked in week 2; the first date of slots at 11:00 is 2030-03-05.
    best = slots[0]
    assert best["first_date"] == "2030-03-05" and best["weekday"] == 1
    assert best["start_time"] == "11:00" and best["end_time"] == "12:00"
    assert best["dates"] == ["2030-03-05", "2030-03-12", "2030-03-19", "2030-03-26"]
    starts = {s["start_time"] for s in slots}
    assert "10:00" not in starts and "10:30" not in starts


def test_closures_are_skipped(desk, admin_api, make_clinician, make_room):
    c = make_clinician(hours=[(1, time(10), time(11))])
    make_room()
    admin_api.post("/api/closures", json={"date": "2030-03-12", "reason": "Closed"})
    r = desk.get(f"/api/availability?clinician_id={c}&weeks=2&duration_minutes=60&from=2030-03-05")
    slot = r.json["slots"][0]
    assert slot["dates"] == ["2030-03-05", "2030-03-19"] and slot["skipped_weeks"] == 1


def test_by_modality_and_capacity(desk, make_clinician, make_room):
    make_clinician(modalities=["general"], hours=[(0, time(9), time(10))])
    wanted = make_clinician(modalities=["general", "group"], hours=[(2, time(9), time(10))])
    make_room(capacity=1)
    big = make_room(capacity=8)
    r = desk.get("/api/availability?modality=general&weeks=2&duration_minutes=60"
                 "&from=2030-03-04&min_capacity=6")
    assert r.status_code == 200
    assert {s["room_id"] for s in r.json["slots"]} == {big}
    assert {s["clinician_id"] for s in r.json["slots"]} >= {wanted}


def test_bad_queries(desk):
    assert desk.get("/api/availability?weeks=2&duration_minutes=60&from=2030-03-04").status_code == 422
    assert desk.get("/api/availability?clinician_id=999&weeks=2&duration_minutes=60&from=2030-03-04").status_code == 404
    assert desk.get("/api/availability?modality=nope&weeks=2&duration_minutes=60&from=2030-03-04").status_code == 422
    assert desk.get("/api/availability?clinician_id=1&weeks=0&duration_minutes=60&from=2030-03-04").status_code == 422


def test_limit_counts_only_slots_inside_the_loaded_window(desk, admin_api, make_clinician,
                                                          make_room):
    """Mondays rank first (2030-03-04 is a Monday) but skip 13 closed weeks, more
    than the search looks beyond a 2-week series; they must be left out before
    the answer is cut to ``limit``, so Tuesday's slots still fill it."""
    c = make_clinician(hours=[(0, time(9), time(11)), (1, time(9), time(10))])
    make_room()
    for week in range(1, 14):
        day = date(2030, 3, 4) + timedelta(weeks=week)
        assert admin_api.post("/api/closures", json={"date": day.isoformat(),
                                                         "reason": "Closed"}).status_code == 201
    r = desk.get(f"/api/availability?clinician_id={c}&weeks=2&duration_minutes=60"
                 "&from=2030-03-04&limit=2")
    assert r.status_code == 200, r.json
    slots = r.json["slots"]
    assert [(s["first_date"], s["start_time"]) for s in slots] == [
        ("2030-03-05", "09:00")], slots
    r = desk.get(f"/api/availability?clinician_id={c}&weeks=2&duration_minutes=60"
                 "&from=2030-03-04&limit=1")
    assert [s["dates"] for s in r.json["slots"]] == [["2030-03-05", "2030-03-12"]]
