"""Reschedule, cancel, attendance, extend and close, over the HTTP API."""
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


@pytest.fixture
def past_course(desk, make_clinician, make_room, make_client):
    ids = {"clinician_id": make_clinician(), "room_id": make_room(),
           "client_ids": [make_client()]}
    r = desk.post("/api/courses", json=dict(ids, first_date="2020-03-02", start_time="10:00",
                                            duration_minutes=50, session_count=3))
    assert r.status_code == 201, r.json
    return r.json


def sessions(desk, course_id):
    return desk.get(f"/api/courses/{course_id}").json["sessions"]


def test_reschedule_this_moves_one(desk, course):
    cid = course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:00"})
    assert r.status_code == 200, r.json
    s = {x["number"]: x for x in r.json["sessions"]}
    assert s[2]["starts_at"] == "2030-03-12T14:00:00+00:00"
    assert s[3]["starts_at"] == "2030-03-18T10:00:00+00:00"


def test_reschedule_following_moves_the_rest(desk, course):
    cid = course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/3/reschedule",
                  json={"date": "2030-03-18", "start_time": "11:00", "scope": "following"})
    assert r.status_code == 200, r.json
    starts = [x["starts_at"] for x in r.json["sessions"]]
    assert starts[:2] == ["2030-03-04T10:00:00+00:00", "2030-03-11T10:00:00+00:00"]
    assert all(s[10:19] == "T11:00:00" for s in starts[2:])
    assert r.json["start_time"] == "11:00"


def test_reschedule_by_a_week_over_its_own_siblings(desk, course):
    cid = course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/2/reschedule",
                  json={"date": "2030-03-18", "start_time": "10:00", "scope": "following"})
    assert r.status_code == 200, r.json
    starts = [x["starts_at"][:10] for x in r.json["sessions"]]
    assert starts == ["2030-03-04", "2030-03-18", "2030-03-25", "2030-04-01", "2030-04-08",
                      "2030-04-15"]


def test_reschedule_conflict_is_409_and_changes_nothing(desk, course, make_client, make_clinician):
    other = desk.post("/api/courses", json={
        "clinician_id": make_clinician(), "room_id": course["room_id"],
        "client_ids": [make_client()], "first_date": "2030-03-12", "start_time": "14:00",
        "duration_minutes": 50, "session_count": 1})
    assert other.status_code == 201
    before = sessions(desk, course["id"])
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/reschedule",
                  json={"date": "2030-03-12", "start_time": "14:30"})
    assert r.status_code == 409
    assert r.json["conflicts"][0]["number"] == 2
    assert r.json["conflicts"][0]["clashes_with"] == ["room"]
    assert sessions(desk, course["id"]) == before


def test_cancel_keeps_the_session_and_frees_the_time(desk, course, make_client, make_clinician):
    cid = course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/2/cancel",
                  json={"by": "client", "reason": "unwell"})
    assert r.status_code == 200, r.json
    s2 = r.json["sessions"][1]
    assert s2["status"] == "cancelled_by_client" and s2["cancel_reason"] == "unwell"
    assert r.json["make_up"] is None
    free = desk.post("/api/courses", json={
        "clinician_id": course["clinician_id"], "room_id": course["room_id"],
        "client_ids": [make_client()], "first_date": "2030-03-11", "start_time": "10:00",
        "duration_minutes": 50, "session_count": 1})
    assert free.status_code == 201, free.json
    again = desk.post(f"/api/courses/{cid}/sessions/2/cancel", json={"by": "client"})
    assert again.status_code == 422


def test_cancel_with_make_up_appends_at_the_end(desk, course):
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/cancel",
                  json={"by": "practice", "make_up": True})
    assert r.status_code == 200, r.json
    assert r.json["make_up"]["number"] == 7
    assert r.json["sessions"][-1]["starts_at"] == "2030-04-15T10:00:00+01:00"
    assert r.json["sessions"][-1]["is_make_up"] is True
    assert r.json["sessions"][-1]["label"] == "session 6 of 6"


def test_attendance_refused_before_start(desk, course):
    r = desk.post(f"/api/courses/{course['id']}/sessions/1/attendance", json={"status": "attended"})
    assert r.status_code == 422
    assert r.json["violations"][0]["rule"] == "attendance.not_started"


def test_course_completes_when_last_session_attended(desk, past_course):
    cid = past_course["id"]
    for n in (1, 2, 3):
        r = desk.post(f"/api/courses/{cid}/sessions/{n}/attendance", json={"status": "attended"})
        assert r.status_code == 200, r.json
    assert r.json["status"] == "completed"
    assert r.json["progress"]["attended"] == 3


def test_extend_adds_sessions(desk, course):
    r = desk.post(f"/api/courses/{course['id']}/extend", json={"sessions": 2, "reason": "agreed"})
    assert r.status_code == 200, r.json
    assert r.json["planned_sessions"] == 8 and r.json["added"] == [7, 8]
    assert len(r.json["sessions"]) == 8


def test_close_early_cancels_the_rest(desk, course):
    r = desk.post(f"/api/courses/{course['id']}/close", json={"outcome": "moved away"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "ended_early"
    assert all(s["status"] == "cancelled_by_practice" for s in r.json["sessions"])
    again = desk.post(f"/api/courses/{course['id']}/close", json={"outcome": "x"})
    assert again.status_code == 422


def test_clinician_sees_only_own_courses(api_as, course, client, make_user, token_for):
    other = api_as("clinician")
    assert other.get(f"/api/courses/{course['id']}").status_code == 404
    assert other.get("/api/courses").json["total"] == 0
    own_uid = make_user("clinician", clinician_id=course["clinician_id"])
    from conftest import Api
    own = Api(client, token_for(own_uid))
    assert own.get(f"/api/courses/{course['id']}").status_code == 200
    assert own.get("/api/courses").json["total"] == 1


def test_changes_are_audited(admin_api, desk, course):
    desk.post(f"/api/courses/{course['id']}/sessions/2/cancel", json={"by": "client"})
    rows = admin_api.get("/api/audit?object_type=session").json["items"]
    assert any(r["action"] == "cancel" and r["user_id"] == desk.user_id for r in rows)
    created = admin_api.get(f"/api/audit?object_type=course&object_id={course['id']}").json
    assert created["items"][0]["action"] == "create"


def test_missed_session_made_up_gives_its_place_to_the_make_up(desk, past_course):
    cid = past_course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/1/attendance",
                  json={"status": "no_show", "make_up": True})
    assert r.status_code == 200, r.json
    s = {x["number"]: x for x in r.json["sessions"]}
    assert r.json["make_up"]["number"] == 4
    assert s[4]["makes_up"] == 1 and s[4]["is_make_up"]
    assert s[1]["label"] is None
    assert [s[n]["label"] for n in (2, 3, 4)] == ["session 1 of 3", "session 2 of 3",
                                                   "session 3 of 3"]


def test_missed_session_without_make_up_keeps_its_place(desk, past_course):
    cid = past_course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/1/attendance", json={"status": "no_show"})
    assert r.status_code == 200, r.json
    assert r.json["make_up"] is None
    assert r.json["sessions"][0]["label"] == "session 1 of 3"
