"""Availability search, case by case: capacity, inactive rooms, modality across
clinicians, cancelled sessions, daylight-saving weeks and bad input (HTTP)."""
from __future__ import annotations

from datetime import time

import pytest

from practice.extensions import db
from practice.models import Clinician

Q = "/api/availability?weeks={weeks}&duration_minutes={dur}&from={start}"


@pytest.fixture
def app_config(app_config, request):
    """Per test (indirect parametrization): extra settings."""
    return {**app_config, **getattr(request, "param", {})}


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


def search(desk, who: str, weeks=2, dur=60, start="2030-03-04", **extra):
    url = Q.format(weeks=weeks, dur=dur, start=start) + "&" + who
    for k, v in extra.items():
        url += f"&{k}={v}"
    r = desk.get(url)
    assert r.status_code == 200, r.json
    return r.json["slots"]


def book(desk, clinician, room, client, day, at, dur=60, count=1, dry_run=False):
    return desk.post("/api/courses", json={
        "clinician_id": clinician, "room_id": room, "client_ids": [client], "first_date": day,
        "start_time": at, "duration_minutes": dur, "session_count": count,
        "dry_run": dry_run})


def test_min_capacity_takes_the_smallest_room_that_fits(desk, make_clinician, make_room):
    c = make_clinician(hours=[(0, time(9), time(10))])
    make_room(capacity=1)
    six = make_room(capacity=6)
    make_room(capacity=8)
    three = make_room(capacity=3)
    assert [s["room_id"] for s in search(desk, f"clinician_id={c}", min_capacity=2)] == [three]
    assert [s["room_id"] for s in search(desk, f"clinician_id={c}", min_capacity=4)] == [six]
    assert search(desk, f"clinician_id={c}", min_capacity=9) == []


def test_inactive_rooms_are_never_offered(desk, make_clinician, make_room, make_client):
    c = make_clinician(hours=[(0, time(9), time(11))])
    make_room(capacity=1, active=False)  # smaller, and free: still not offered
    big = make_room(capacity=4)
    slots = search(desk, f"clinician_id={c}")
    assert slots and {s["room_id"] for s in slots} == {big}
    # The only active room busy at 09:00 in week 2: 09:00 is gone, not moved
    # into the inactive room.
    assert book(desk, c, big, make_client(), "2030-03-11", "09:00").status_code == 201
    starts = [s["start_time"] for s in search(desk, f"clinician_id={c}")]
    assert "09:00" not in starts and "10:00" in starts


def test_modality_searches_every_active_clinician(desk, app, make_clinician, make_room):
    first = make_clinician(hours=[(0, time(9), time(10))])
    second = make_clinician(hours=[(0, time(9), time(10))])
    gone = make_clinician(hours=[(0, time(9), time(10))])
    with app.app_context():
        db.session.get(Clinician, gone).active = False
        db.session.commit()
    room_a, room_b = make_room(), make_room()
    slots = search(desk, "modality=general")
    # Same first date, skips and start: clinician id decides; each clinician
    # gets the smallest fitting room (here: the lower id), rooms can repeat.
    assert [(s["clinician_id"], s["room_id"], s["start_time"]) for s in slots] == [
        (first, room_a, "09:00"), (second, room_a, "09:00")]
    # The clinician search of an inactive clinician finds nothing.
    assert search(desk, f"clinician_id={gone}") == []


@pytest.mark.parametrize("app_config", [{"PRACTICE_PLUGINS": "ipt"}], indirect=True)
def test_a_plugin_modality_searches_only_its_clinicians(desk, make_clinician, make_room):
    make_clinician(modalities=["general"], hours=[(0, time(9), time(10))])
    ipt = [make_clinician(modalities=["general", "ipt"], hours=[(wd, time(9), time(10))])
           for wd in (2, 1)]
    make_room()
    slots = search(desk, "modality=ipt", dur=50)
    # Tuesday's clinician has the earlier first date, though the higher id.
    assert [(s["clinician_id"], s["weekday"]) for s in slots[:1]] == [(ipt[1], 1)]
    assert {s["clinician_id"] for s in slots} == set(ipt)


def test_cancelled_sessions_free_their_time(desk, make_clinician, make_room, make_client):
    c = make_clinician(hours=[(0, time(9), time(10))])
    room = make_room()
    booked = book(desk, c, room, make_client(), "2030-03-11", "09:00")
    assert booked.status_code == 201
    assert search(desk, f"clinician_id={c}") == []
    r = desk.post(f"/api/courses/{booked.json['id']}/sessions/1/cancel",
                  json={"by": "client", "reason": "ill"})
    assert r.status_code == 200, r.json
    assert [s["dates"] for s in search(desk, f"clinician_id={c}")] == [
        ["2030-03-04", "2030-03-11"]]


def test_a_london_week_across_the_change_keeps_its_local_time(desk, make_clinician,
                                                             make_room, make_client):
    # London springs forward on Sunday 2030-03-31.
    c = make_clinician(hours=[(0, time(8), time(11))])
    room = make_room()
    # After the change 09:00 local is 08:00 UTC: it must block 09:00, not 08:00.
    assert book(desk, c, room, make_client(), "2030-04-01", "09:00").status_code == 201
    slots = search(desk, f"clinician_id={c}", weeks=3, start="2030-03-25")
    starts = [s["start_time"] for s in slots]
    assert "08:00" in starts and "10:00" in starts
    assert not {"08:15", "08:30", "08:45", "09:00", "09:15", "09:30", "09:45"} & set(starts)
    slot = next(s for s in slots if s["start_time"] == "10:00")
    assert slot["dates"] == ["2030-03-25", "2030-04-01", "2030-04-08"]
    r = book(desk, c, room, make_client(), slot["first_date"], "10:00", count=3, dry_run=True)
    assert r.json["ok"], r.json
    assert [s["starts_at"] for s in r.json["sessions"]] == [
        "2030-03-25T10:00:00+00:00", "2030-04-01T10:00:00+01:00", "2030-04-08T10:00:00+01:00"]


def test_a_start_in_the_spring_gap_is_not_offered(desk, make_clinician, make_room):
    c = make_clinician(hours=[(6, time(0, 30), time(3))])  # Sundays
    make_room()
    starts = {s["start_time"] for s in search(desk, f"clinician_id={c}", dur=15,
                                              start="2030-03-24", limit=50)}
    # 01:00-01:59 does not exist on 2030-03-31; every other start does.
    assert starts == {"00:30", "00:45", "02:00", "02:15", "02:30", "02:45"}


@pytest.mark.parametrize("app_config", [{"PRACTICE_TIMEZONE": "America/New_York"}],
                         indirect=True)
def test_a_new_york_week_across_the_change_keeps_its_local_time(desk, make_clinician,
                                                               make_room, make_client):
    # New York springs forward on Sunday 2030-03-10.
    c = make_clinician(hours=[(0, time(8), time(11))])
    room = make_room()
    assert book(desk, c, room, make_client(), "2030-03-11", "09:00").status_code == 201
    slots = search(desk, f"clinician_id={c}", weeks=2, start="2030-03-04")
    assert [s["start_time"] for s in slots] == ["08:00", "10:00"]
    r = book(desk, c, room, make_client(), "2030-03-04", "10:00", count=2, dry_run=True)
    assert r.json["ok"], r.json
    assert [s["starts_at"] for s in r.json["sessions"]] == [
        "2030-03-04T10:00:00-05:00", "2030-03-11T10:00:00-04:00"]


BAD = [
    ("weeks=2&duration_minutes=60&from=2030-03-04", 422),            # neither who
    ("clinician_id=1&modality=general&weeks=2&duration_minutes=60&from=2030-03-04", 422),
    ("clinician_id=abc&weeks=2&duration_minutes=60&from=2030-03-04", 422),
    ("clinician_id=0&weeks=2&duration_minutes=60&from=2030-03-04", 422),
    ("clinician_id=99999999999999999999&weeks=2&duration_minutes=60&from=2030-03-04", 422),
    ("clinician_id=424242&weeks=2&duration_minutes=60&from=2030-03-04", 404),
    ("modality=nope&weeks=2&duration_minutes=60&from=2030-03-04", 422),
    ("modality=general&weeks=105&duration_minutes=60&from=2030-03-04", 422),
    ("modality=general&weeks=2&duration_minutes=5&from=2030-03-04", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-02-30", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=", 422),
    ("modality=general&weeks=2&duration_minutes=60", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&weekday=7", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&earliest=25:00", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&earliest=11:00"
     "&latest=10:00", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&min_capacity=0", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&limit=0", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&limit=201", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=2030-03-04&interval_weeks=9", 422),
    # Dates at the ends of the calendar: a clear refusal, never an overflow.
    ("modality=general&weeks=104&duration_minutes=60&from=9999-12-20", 422),
    ("modality=general&weeks=2&duration_minutes=60&from=0001-01-01", 422),
]


@pytest.mark.parametrize("query,status", BAD)
def test_bad_input_is_refused_clearly(desk, make_clinician, make_room, query, status):
    make_clinician()
    make_room()
    r = desk.get("/api/availability?" + query)
    assert r.status_code == status, (query, r.status_code, r.get_data(as_text=True)[:300])
    assert r.json["error"] and r.json["message"]


def test_a_session_across_midnight_blocks_the_next_morning(desk, make_clinician, make_room,
                                                            make_client):
    night = make_clinician(hours=[(0, time(22), time(23, 59))])
    early = make_clinician(hours=[(1, time(0), time(2))])  # Tuesdays 00:00-02:00
    room = make_room()
    # Monday 23:30 for 90 minutes: the room is busy until Tuesday 01:00.
    r = book(desk, night, room, make_client(), "2030-03-04", "23:30", dur=90)
    assert r.status_code == 201, r.json
    slots = search(desk, f"clinician_id={early}", weeks=1, start="2030-03-05", limit=50)
    assert [s["start_time"] for s in slots] == ["01:00"]
