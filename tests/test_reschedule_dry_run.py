"""``POST /api/courses/<id>/sessions/<n>/reschedule`` with ``"dry_run": true``:
what would happen, and nothing written (the calendar's drag-and-drop asks
this before the user confirms)."""
from __future__ import annotations

import pytest


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


@pytest.fixture
def course(desk, make_clinician, make_room, make_client):
    ids = {"clinician_id": make_clinician(), "room_id": make_room(),
           "client_ids": [make_client()]}
    r = desk.post("/api/courses", json=dict(ids, first_date="2030-03-04", start_time="10:00",
                                            duration_minutes=50, session_count=6))
    assert r.status_code == 201, r.json
    return r.json


def read_back(api, course_id) -> dict:
    r = api.get(f"/api/courses/{course_id}")
    assert r.status_code == 200
    return r.json


def audit_count(admin_api) -> int:
    return admin_api.get("/api/audit?limit=500").json["total"]


def test_dry_run_on_a_free_time_is_ok_and_changes_nothing(desk, admin_api, course):
    before, audits = read_back(desk, course["id"]), audit_count(admin_api)
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00", "dry_run": True})
    assert r.status_code == 200, r.json
    assert r.json["dry_run"] is True and r.json["ok"] is True
    assert r.json["conflicts"] == [] and r.json["violations"] == []
    assert r.json["sessions"] == [{"number": 2, "starts_at": "2030-03-12T14:00:00+00:00",
                                   "ends_at": "2030-03-12T14:50:00+00:00",
                                   "room_id": course["room_id"]}]
    assert read_back(desk, course["id"]) == before
    assert audit_count(admin_api) == audits
    # and the real move, asked the same way, still does what the preview said
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00"})
    assert r.status_code == 200
    moved = {s["number"]: s for s in r.json["sessions"]}[2]
    assert moved["starts_at"] == "2030-03-12T14:00:00+00:00"


def test_dry_run_reports_the_conflict_the_move_would_meet(desk, course, make_client,
                                                          make_clinician):
    other = desk.post("/api/courses", json={
        "clinician_id": make_clinician(), "room_id": course["room_id"],
        "client_ids": [make_client()], "first_date": "2030-03-12", "start_time": "14:00",
        "duration_minutes": 50, "session_count": 1})
    assert other.status_code == 201
    before = read_back(desk, course["id"])
    body = {"date": "2030-03-12", "start_time": "14:30"}
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={**body, "dry_run": True})
    assert r.status_code == 200, r.json
    assert r.json["ok"] is False
    [conflict] = r.json["conflicts"]
    assert conflict["number"] == 2 and conflict["clashes_with"] == ["room"]
    assert conflict["clashes"][0]["session"]["course_id"] == other.json["id"]
    assert read_back(desk, course["id"]) == before
    # the same shape as the 409 of the real move
    real = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule", json=body)
    assert real.status_code == 409
    assert real.json["conflicts"] == r.json["conflicts"]
    assert read_back(desk, course["id"]) == before


def test_dry_run_of_following_lists_every_moved_session(desk, course):
    before = read_back(desk, course["id"])
    r = desk.post(f"/api/courses/{course['id']}/sessions/3/reschedule",
                  json={"date": "2030-03-19", "start_time": "11:00", "scope": "following",
                        "dry_run": True})
    assert r.status_code == 200, r.json
    assert r.json["ok"] is True
    assert [s["number"] for s in r.json["sessions"]] == [3, 4, 5, 6]
    assert [s["starts_at"][:16] for s in r.json["sessions"]] == [
        "2030-03-19T11:00", "2030-03-26T11:00", "2030-04-02T11:00", "2030-04-09T11:00"]
    after = read_back(desk, course["id"])
    assert after == before  # the course's slot (weekday, start_time) too
    assert after["start_time"] == "10:00"


def test_dry_run_reports_rule_violations_instead_of_422(desk, admin_api, course):
    assert admin_api.post("/api/closures", json={"date": "2030-03-13",
                                                 "reason": "Closed"}).status_code == 201
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-13", "start_time": "10:00", "dry_run": True})
    assert r.status_code == 200, r.json
    assert r.json["ok"] is False
    assert [v["rule"] for v in r.json["violations"]] == ["calendar.blocked"]
    # without dry_run the same request is still refused with 422
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-13", "start_time": "10:00"})
    assert r.status_code == 422


def test_dry_run_of_a_cancelled_session_is_not_ok(desk, course):
    assert desk.post(f"/api/courses/{course['id']}/sessions/2/cancel",
                     json={"by": "client"}).status_code == 200
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00", "dry_run": True})
    assert r.status_code == 200
    assert r.json["ok"] is False
    assert r.json["violations"][0]["rule"] == "session.not_scheduled"


def test_dry_run_still_404s_unknown_things(desk, course):
    url = f"/api/courses/{course['id']}/sessions/99/reschedule"
    r = desk.post(url, json={"date": "2030-03-12", "start_time": "14:00", "dry_run": True})
    assert r.status_code == 404
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00", "room_id": 9999,
                        "dry_run": True})
    assert r.status_code == 404


def test_dry_run_must_be_a_boolean(desk, course):
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00", "dry_run": "yes"})
    assert r.status_code == 422
    assert r.json["violations"][0]["field"] == "dry_run"


def test_another_clinicians_course_is_not_previewed(api_as, course):
    stranger = api_as("clinician")
    r = stranger.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                      json={"date": "2030-03-12", "start_time": "14:00", "dry_run": True})
    assert r.status_code == 404
