"""The database, not only the Python pre-check, refuses double booking.

Sessions and participant rows are written straight through the models and
through raw SQL, around the services, on whichever database the run uses
(SQLite triggers, PostgreSQL exclusion constraints): an overlap for a
clinician, a room or a client is an IntegrityError the engine recognises;
half-open intervals touch without clashing; cancelled sessions and inactive
participant rows free their time; updates into an overlap are refused too.

Then through the API with the pre-check blinded for one call (what a race
looks like: the other booking was not committed when we looked): the answer
is still the 409 the pre-check would have given, and nothing is written.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError

from practice.db import UTCDateTime
from practice.extensions import db
from practice.models import Course, SessionParticipant, TherapySession
from practice.models.audit import AuditEntry
from practice.services import booking, course_changes
from practice.services.booking import is_overlap_error
from practice.services.conflicts import ConflictReport

UTC = timezone.utc
DAY = date(2031, 5, 5)


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=days), time(hour, minute), tzinfo=UTC)


@pytest.fixture
def world(app, make_clinician, make_room, make_client):
    """Two clinicians, two rooms (capacity 2), three clients, one course to
    hang sessions on (the guards look at each session's own columns)."""
    ids = {"c1": make_clinician(), "c2": make_clinician(), "r1": make_room(capacity=2),
           "r2": make_room(capacity=2), "k1": make_client(), "k2": make_client(),
           "k3": make_client()}
    with app.app_context():
        course = Course(clinician_id=ids["c1"], room_id=ids["r1"], planned_sessions=1,
                        weekday=DAY.weekday(), start_time=time(10), duration_minutes=50,
                        first_date=DAY, timezone="UTC", status="active")
        db.session.add(course)
        db.session.commit()
        ids["course"] = course.id
    ids["numbers"] = iter(range(1, 1000))
    with app.app_context():
        yield ids


# -- two ways to write a session around the services ------------------------------
def orm_insert(w, clinician, room, start, end, clients=(), status="scheduled",
               active=True) -> int:
    s = TherapySession(course_id=w["course"], number=next(w["numbers"]), clinician_id=w[clinician],
                       room_id=w[room], starts_at=start, ends_at=end, status=status,
                       uid=str(uuid.uuid4()), sequence=0)
    s.participants = [SessionParticipant(client_id=w[k], starts_at=start, ends_at=end,
                                         active=active) for k in clients]
    db.session.add(s)
    db.session.commit()
    return s.id


def _typed(sql: str, *names: str):
    # Raw SQL, but the instants go through the column type so both databases
    # store them exactly as the application does.
    return text(sql).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in names))


INSERT_SESSION = _typed(
    "INSERT INTO sessions (course_id, number, clinician_id, room_id, starts_at, ends_at, "
    "status, is_make_up, uid, sequence, created_at, updated_at) VALUES (:course, :number, "
    ":clinician, :room, :s, :e, :status, :no, :uid, 0, :now, :now) RETURNING id",
    "s", "e", "now")
INSERT_PARTICIPANT = _typed(
    "INSERT INTO session_participants (session_id, client_id, starts_at, ends_at, active) "
    "VALUES (:sid, :client, :s, :e, :active)", "s", "e")


def sql_insert(w, clinician, room, start, end, clients=(), status="scheduled",
               active=True) -> int:
    now = datetime.now(UTC)
    sid = db.session.execute(INSERT_SESSION, {
        "course": w["course"], "number": next(w["numbers"]), "clinician": w[clinician],
        "room": w[room], "s": start, "e": end, "status": status, "no": False,
        "uid": str(uuid.uuid4()), "now": now}).scalar_one()
    for k in clients:
        db.session.execute(INSERT_PARTICIPANT, {"sid": sid, "client": w[k], "s": start, "e": end,
                                                "active": active})
    db.session.commit()
    return sid


@pytest.fixture(params=["orm", "sql"])
def insert(request):
    return orm_insert if request.param == "orm" else sql_insert


def refused(write, *args, **kw) -> IntegrityError:
    """``write`` must fail with an overlap error the engine turns into a 409."""
    with pytest.raises(IntegrityError) as info:
        write(*args, **kw)
    db.session.rollback()
    assert is_overlap_error(info.value), str(info.value)
    return info.value


def live_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TherapySession).where(
        TherapySession.status.not_in(("cancelled_by_client", "cancelled_by_practice"))))


# -- inserts -------------------------------------------------------------------------
@pytest.mark.parametrize("kind,clinician,room,client", [
    ("clinician", "c1", "r2", "k2"),
    ("room", "c2", "r1", "k2"),
    ("client", "c2", "r2", "k1"),
])
def test_overlapping_insert_is_refused(world, insert, kind, clinician, room, client):
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1"])
    # 10:49-11:39 shares one minute with 10:00-10:50 and one resource with it.
    err = refused(insert, world, clinician, room, at(10, 49), at(11, 39), [client])
    if db.engine.dialect.name == "sqlite":
        assert f"overlap: {kind}" in str(err)
    else:
        expected = {"clinician": "ex_sessions_clinician", "room": "ex_sessions_room",
                    "client": "ex_participants_client"}[kind]
        assert expected in str(err)
    assert live_count() == 1


def test_nested_and_enclosing_intervals_are_refused(world, insert):
    insert(world, "c1", "r1", at(10), at(12), ["k1"])
    refused(insert, world, "c1", "r2", at(10, 30), at(11), ["k2"])
    refused(insert, world, "c2", "r1", at(9), at(13), ["k2"])
    refused(insert, world, "c2", "r2", at(10), at(12), ["k1"])
    assert live_count() == 1


def test_an_overlap_across_midnight_is_refused(world, insert):
    # 22:00 to 02:00 the next day, then 01:00-01:30 that next day.
    insert(world, "c1", "r1", at(22), at(2, days=1), ["k1"])
    refused(insert, world, "c1", "r2", at(1, days=1), at(1, 30, days=1), ["k2"])
    refused(insert, world, "c2", "r2", at(1, days=1), at(1, 30, days=1), ["k1"])
    insert(world, "c1", "r1", at(2, days=1), at(3, days=1), ["k1"])  # touches the end: fine


def test_half_open_intervals_touch_without_clashing(world, insert):
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1"])
    insert(world, "c1", "r1", at(10, 50), at(11, 40), ["k1"])
    insert(world, "c1", "r1", at(9, 10), at(10), ["k1"])
    assert live_count() == 3


def test_different_people_and_rooms_share_a_time(world, insert):
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1"])
    insert(world, "c2", "r2", at(10), at(10, 50), ["k2", "k3"])
    assert live_count() == 2


@pytest.mark.parametrize("status", ["cancelled_by_client", "cancelled_by_practice"])
def test_cancelled_sessions_free_their_time(world, insert, status):
    old = insert(world, "c1", "r1", at(10), at(10, 50), ["k1"], status=status, active=False)
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1"])
    # A cancelled row may also be recorded over a live one (history).
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1"], status=status, active=False)
    # Un-cancelling the old one now would double-book: refused.
    refused(lambda: (db.session.execute(update(TherapySession).where(
        TherapySession.id == old).values(status="scheduled")), db.session.commit()))
    refused(lambda: (db.session.execute(update(SessionParticipant).where(
        SessionParticipant.session_id == old).values(active=True)), db.session.commit()))


def test_inactive_participant_frees_the_client(world, insert):
    # k1 left the group session: their time is free for another session.
    insert(world, "c1", "r1", at(10), at(10, 50), ["k1", "k2"])
    db.session.execute(update(SessionParticipant).where(
        SessionParticipant.client_id == world["k1"]).values(active=False))
    db.session.commit()
    insert(world, "c2", "r2", at(10), at(10, 50), ["k1"])
    refused(insert, world, "c2", "r2", at(10, 30), at(11), ["k2"])  # k2 is still in it


# -- updates -------------------------------------------------------------------------
@pytest.fixture
def two_sessions(world, insert):
    """X: c1, r1, k1 at 10:00-10:50; Y: c2, r2, k2 at 12:00-12:50."""
    x = insert(world, "c1", "r1", at(10), at(10, 50), ["k1"])
    y = insert(world, "c2", "r2", at(12), at(12, 50), ["k2"])
    return x, y


def _update_session(sid, **values):
    db.session.execute(update(TherapySession).where(TherapySession.id == sid).values(**values))
    if "starts_at" in values:
        db.session.execute(update(SessionParticipant).where(
            SessionParticipant.session_id == sid).values(starts_at=values["starts_at"],
                                                         ends_at=values["ends_at"]))
    db.session.commit()


def test_moving_a_session_into_an_overlap_is_refused(world, two_sessions):
    x, y = two_sessions
    # Y moved to 10:20: clear of X as long as clinician, room and client differ...
    _update_session(y, starts_at=at(10, 20), ends_at=at(11, 10))
    # ...but not when it takes X's room, X's clinician or X's client.
    refused(_update_session, y, room_id=world["r1"])
    refused(_update_session, y, clinician_id=world["c1"])
    refused(lambda: (db.session.execute(update(SessionParticipant).where(
        SessionParticipant.session_id == y).values(client_id=world["k1"])), db.session.commit()))
    # And a session of X's clinician moving onto X's time.
    _update_session(y, clinician_id=world["c1"], starts_at=at(12), ends_at=at(12, 50))
    refused(_update_session, y, starts_at=at(10, 40), ends_at=at(11, 30))
    assert db.session.get(TherapySession, y).starts_at == at(12)


def test_participant_rows_moving_into_an_overlap_are_refused(world, two_sessions):
    x, y = two_sessions
    db.session.execute(update(SessionParticipant).where(
        SessionParticipant.session_id == y).values(client_id=world["k1"]))
    db.session.commit()
    refused(lambda: (db.session.execute(update(SessionParticipant).where(
        SessionParticipant.session_id == y).values(starts_at=at(10, 30), ends_at=at(11))),
        db.session.commit()))


def test_a_session_may_grow_over_its_own_time(world, two_sessions):
    x, _ = two_sessions
    _update_session(x, starts_at=at(9, 50), ends_at=at(11))
    assert db.session.get(TherapySession, x).ends_at == at(11)


# -- through the API, with the pre-check blinded -----------------------------------
def blind_first_call(monkeypatch, module):
    """The next ``find_conflicts`` in ``module`` sees nothing (as if the other
    booking were not committed yet); later calls (the 409's rebuild) see all."""
    real = module.find_conflicts
    calls = []

    def precheck(**kw):
        calls.append(kw)
        return ConflictReport() if len(calls) == 1 else real(**kw)

    monkeypatch.setattr(module, "find_conflicts", precheck)
    return calls


def snapshot() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "courses": db.session.execute(select(Course.id, Course.planned_sessions, Course.weekday,
                                             Course.start_time).order_by(Course.id)).all(),
        "sessions": db.session.execute(select(
            TherapySession.id, TherapySession.number, TherapySession.starts_at,
            TherapySession.ends_at, TherapySession.room_id, TherapySession.status,
            TherapySession.sequence).order_by(TherapySession.id)).all(),
        "participants": db.session.execute(select(
            SessionParticipant.id, SessionParticipant.starts_at, SessionParticipant.active)
            .order_by(SessionParticipant.id)).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
    }


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


@pytest.fixture
def booked(app, desk, make_clinician, make_room, make_client):
    """A weekly 10:00 course (clinician A, room A, client A), 6 sessions, and
    a second clinician, room and client free at the same times."""
    ids = {"clinician": make_clinician(), "room": make_room(capacity=3), "client": make_client(),
           "other_clinician": make_clinician(), "other_room": make_room(capacity=3),
           "other_client": make_client()}
    r = desk.post("/api/courses", json={
        "client_ids": [ids["client"]], "clinician_id": ids["clinician"], "room_id": ids["room"],
        "first_date": "2031-03-03", "start_time": "10:00", "duration_minutes": 50,
        "session_count": 6})
    assert r.status_code == 201, r.json
    ids["course"] = r.json["id"]
    return ids


@pytest.mark.parametrize("kind", ["clinician", "room", "client"])
def test_a_race_past_the_precheck_still_answers_the_same_409(app, monkeypatch, desk, booked,
                                                            kind):
    # Sessions 2-3 (10:30 on the 10th and 17th) clash with the course's 2nd and
    # 3rd through exactly one resource; a second client makes it a group course.
    body = {"client_ids": [booked["other_client"]], "clinician_id": booked["other_clinician"],
            "room_id": booked["other_room"], "first_date": "2031-03-03", "start_time": "10:30",
            "duration_minutes": 50, "session_count": 4}
    if kind == "clinician":
        body["clinician_id"] = booked["clinician"]
    elif kind == "room":
        body["room_id"] = booked["room"]
    else:
        body["client_ids"].append(booked["client"])
    r = desk.post("/api/courses", json=dict(body, first_date="2031-03-10", session_count=2))
    expected = r.json
    assert r.status_code == 409 and [c["number"] for c in expected["conflicts"]] == [1, 2]
    with app.app_context():
        before = snapshot()

    calls = blind_first_call(monkeypatch, booking)
    raced = desk.post("/api/courses", json=dict(body, first_date="2031-03-10", session_count=2))
    assert len(calls) == 2  # the blinded pre-check, then the rebuild after the refusal
    assert raced.status_code == 409, raced.json
    assert raced.json == expected
    assert raced.json["conflicts"][0]["clashes_with"] == [kind]
    with app.app_context():
        assert snapshot() == before


def test_a_series_racing_into_its_seventh_week_writes_nothing(app, monkeypatch, desk, booked,
                                                             make_room, make_client):
    one_off = desk.post("/api/courses", json={
        "client_ids": [booked["other_client"]], "clinician_id": booked["other_clinician"],
        "room_id": booked["other_room"], "first_date": "2031-03-03", "start_time": "10:00",
        "duration_minutes": 50, "session_count": 1})
    assert one_off.status_code == 201, one_off.json
    # 16 weekly sessions from 2031-01-20: only the 7th (2031-03-03) meets the one-off.
    body = {"client_ids": [make_client()], "clinician_id": booked["other_clinician"],
            "room_id": make_room(), "first_date": "2031-01-20", "start_time": "10:40",
            "duration_minutes": 30, "session_count": 16}
    with app.app_context():
        before = snapshot()
    blind_first_call(monkeypatch, booking)
    r = desk.post("/api/courses", json=body)
    assert r.status_code == 409, r.json
    assert r.json["error"] == "conflict"
    assert [c["number"] for c in r.json["conflicts"]] == [7]
    assert r.json["conflicts"][0]["clashes"][0]["session"]["course_id"] == one_off.json["id"]
    with app.app_context():
        assert snapshot() == before


@pytest.mark.parametrize("scope", ["this", "following"])
def test_a_reschedule_racing_into_a_clash_answers_409(app, monkeypatch, desk, booked, scope):
    other = desk.post("/api/courses", json={
        "client_ids": [booked["other_client"]], "clinician_id": booked["other_clinician"],
        "room_id": booked["other_room"], "first_date": "2031-03-03", "start_time": "12:00",
        "duration_minutes": 50, "session_count": 6})
    assert other.status_code == 201, other.json
    url = f"/api/courses/{other.json['id']}/sessions/2/reschedule"
    move = {"date": "2031-03-10", "start_time": "10:20", "room_id": booked["room"],
            "scope": scope}
    expected = desk.post(url, json=move)
    assert expected.status_code == 409, expected.json
    with app.app_context():
        before = snapshot()
    calls = blind_first_call(monkeypatch, course_changes)
    raced = desk.post(url, json=move)
    assert calls and raced.status_code == 409, raced.json
    assert raced.json["error"] == "conflict"
    assert [c["number"] for c in raced.json["conflicts"]] == \
        [c["number"] for c in expected.json["conflicts"]]
    assert raced.json["conflicts"][0]["clashes_with"] == ["room"]
    with app.app_context():
        assert snapshot() == before


def test_an_extension_racing_into_a_clash_answers_409(app, monkeypatch, desk, booked):
    # Another course already holds the room the week after the series ends.
    other = desk.post("/api/courses", json={
        "client_ids": [booked["other_client"]], "clinician_id": booked["other_clinician"],
        "room_id": booked["room"], "first_date": "2031-04-14", "start_time": "10:00",
        "duration_minutes": 50, "session_count": 1})
    assert other.status_code == 201, other.json
    with app.app_context():
        before = snapshot()
    blind_first_call(monkeypatch, course_changes)
    r = desk.post(f"/api/courses/{booked['course']}/extend", json={"sessions": 2})
    assert r.status_code == 409, r.json
    assert r.json["error"] == "conflict" and r.json["conflicts"]
    with app.app_context():
        assert snapshot() == before


def test_a_make_up_racing_into_a_clash_answers_409(app, monkeypatch, desk, booked):
    other = desk.post("/api/courses", json={
        "client_ids": [booked["other_client"]], "clinician_id": booked["clinician"],
        "room_id": booked["other_room"], "first_date": "2031-04-14", "start_time": "10:30",
        "duration_minutes": 50, "session_count": 1})
    assert other.status_code == 201, other.json
    with app.app_context():
        before = snapshot()
    blind_first_call(monkeypatch, course_changes)
    r = desk.post(f"/api/courses/{booked['course']}/sessions/2/cancel",
                  json={"by": "client", "make_up": True})
    assert r.status_code == 409, r.json
    assert r.json["error"] == "conflict" and r.json["conflicts"]
    with app.app_context():
        assert snapshot() == before
