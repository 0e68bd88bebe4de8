"""A booking's answer is built from what it just wrote, without reading it back:
it must be exactly what reading the course afterwards shows, and the booking
must stay within its handful of statements."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from practice.extensions import db
from practice.models import AuditEntry, CourseClient, SessionParticipant, TherapySession


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


def _same_as_read_back(api, posted: dict) -> dict:
    got = api.get(f"/api/courses/{posted['id']}")
    assert got.status_code == 200, got.json
    fresh = got.json
    for key in ("skipped", "warnings"):
        posted = {k: v for k, v in posted.items() if k != key}
        fresh = {k: v for k, v in fresh.items() if k != key}
    # The answer names the clients in the request's order (as it always
    # has); read back, they come in id order.
    assert sorted(posted.pop("client_ids")) == fresh.pop("client_ids")
    assert posted == fresh
    return got.json


def test_group_answer_equals_the_course_read_back(app, desk, make_clinician, make_room,
                                                  make_client):
    clients = [make_client() for _ in range(3)]
    given = [clients[2], clients[0], clients[1], clients[0]]  # out of order, one twice
    r = desk.post("/api/courses", json={
        "client_ids": given, "clinician_id": make_clinician(),
        "room_id": make_room(capacity=4), "first_date": "2031-02-03", "start_time": "10:00",
        "duration_minutes": 60, "session_count": 6, "label": "Group"})
    assert r.status_code == 201, r.json
    body = r.json
    # The order the request named them in, each once (as before).
    assert body["client_ids"] == [clients[2], clients[0], clients[1]]
    assert [s["number"] for s in body["sessions"]] == list(range(1, 7))
    for s in body["sessions"]:
        assert [a["client_id"] for a in s["attendance"]] == sorted(clients)
        assert all(a["status"] is None for a in s["attendance"])
    assert body["flags"] == []
    with app.app_context():
        ids = db.session.scalars(select(TherapySession.id).where(
            TherapySession.course_id == body["id"]).order_by(TherapySession.number)).all()
        assert [s["id"] for s in body["sessions"]] == ids
        assert db.session.scalar(select(db.func.count()).select_from(SessionParticipant)
                                 .where(SessionParticipant.session_id.in_(ids))) == 18
        assert sorted(db.session.scalars(select(CourseClient.client_id).where(
            CourseClient.course_id == body["id"]))) == sorted(clients)
        audit = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "course", AuditEntry.object_id == body["id"])).all()
        assert [(a.action, a.details["sessions"]) for a in audit] == [("create", 6)]
    fresh = _same_as_read_back(desk, body)
    # The following GET reads everything the POST kept in memory.
    assert fresh["sessions"][0]["label"] == "session 1 of 6"


def test_single_client_answer_equals_the_course_read_back(desk, make_clinician, make_room,
                                                          make_client):
    r = desk.post("/api/courses", json={
        "client_ids": [make_client()], "clinician_id": make_clinician(),
        "room_id": make_room(), "first_date": "2031-03-24", "start_time": "17:30",
        "duration_minutes": 50, "session_count": 16})
    assert r.status_code == 201, r.json
    assert len(r.json["sessions"]) == 16
    _same_as_read_back(desk, r.json)


def test_unknown_people_are_404s_that_write_nothing(app, desk, make_clinician, make_room,
                                                    make_client):
    good = {"client_ids": [make_client()], "clinician_id": make_clinician(),
            "room_id": make_room(), "first_date": "2031-03-24", "start_time": "09:00",
            "duration_minutes": 50, "session_count": 4}
    for field, value, word in (("clinician_id", 999_999, "Clinician"),
                               ("room_id", 999_998, "Room"),
                               ("client_ids", [good["client_ids"][0], 999_997, 999_996],
                                "Client")):
        r = desk.post("/api/courses", json={**good, field: value})
        assert r.status_code == 404, r.json
        assert word in r.json["message"]
    r = desk.post("/api/courses", json={**good, "client_ids": [good["client_ids"][0], 999_997,
                                                               999_996]})
    assert r.json["message"] == "Client 999997, 999996 does not exist."
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(TherapySession)) == 0


def test_a_booking_takes_a_bounded_number_of_statements(app, desk, make_clinician,
                                                        make_room, make_client):
    body = {"client_ids": [make_client()], "clinician_id": make_clinician(),
            "room_id": make_room(), "first_date": "2031-05-05", "start_time": "11:00",
            "duration_minutes": 50, "session_count": 16}
    statements = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = desk.post("/api/courses", json=body)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 201, r.json
    # Token, clinician (with hours and modalities), room, clients, calendar
    # (3), pre-check (2), course, its clients, sessions, participants,
    # audit, the sessions read once: 16, plus BEGIN on SQLite. One INSERT
    # per session or participant row, or a lazy load per relation, breaks it.
    assert len(statements) <= 17, "\n".join(s.split("\n")[0][:100] for s in statements)
