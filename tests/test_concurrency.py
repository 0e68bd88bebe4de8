"""Double booking under real concurrency: gunicorn with 4 workers, requests
released together by a barrier, on the test database (SQLite file or
PostgreSQL, as ``TEST_DATABASE_URL`` says).

- 50 bookings of one slot: exactly one 201, 49 409s, no 5xx.
- 20 sixteen-session series that collide only on their 7th week: exactly one
  series is stored, with all 16 sessions; no partial series.
- 200 bookings of distinct slots: all 201, no "database is locked".

The server is shared by the module (starting 4 workers takes a while on a
busy machine); each test empties the tables through the ``app`` fixture and
seeds what it needs directly in the database before firing.
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
import requests
from sqlalchemy import func, select

from practice.extensions import db
from practice.models import Course, SessionParticipant, TherapySession
from server_helpers import gunicorn_server

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT = (10, 60)  # connect, read: a stuck server fails the test, not hangs it


@pytest.fixture(scope="module")
def server(db_url):
    with gunicorn_server(db_url, workers=4) as srv:
        yield srv
    log = srv.log()
    assert "Traceback" not in log, log[-4000:]
    assert "database is locked" not in log


def fire_together(base_url: str, token: str, bodies: list[dict],
                  path: str = "/api/courses") -> list[tuple[int | str, dict | str]]:
    """POST every body from its own thread, all released at once; returns
    (status, json body) per request, or ("error", text) on a transport error."""
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)
    headers = {"Authorization": f"Bearer {token}"}

    def run(i: int) -> None:
        with requests.Session() as http:
            try:
                barrier.wait(timeout=60)
                r = http.post(base_url + path, json=bodies[i], headers=headers,
                              timeout=REQUEST_TIMEOUT)
                try:
                    results[i] = (r.status_code, r.json())
                except ValueError:
                    results[i] = (r.status_code, r.text)
            except (requests.RequestException, threading.BrokenBarrierError) as err:
                results[i] = ("error", repr(err))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def one_slot_bodies(clinician_id: int, room_id: int, client_ids: list[int]) -> list[dict]:
    """The same slot (clinician, room, time) for each client: only one can win."""
    return [{"client_ids": [cid], "clinician_id": clinician_id, "room_id": room_id,
             "first_date": "2031-06-02", "start_time": "10:00", "duration_minutes": 50,
             "session_count": 1} for cid in client_ids]


def statuses(results) -> Counter:
    return Counter(status for status, _ in results)


@pytest.fixture
def front_desk_token(make_user, token_for):
    return token_for(make_user("front_desk"))


def test_fifty_bookings_of_one_slot_give_one_201(app, server, front_desk_token,
                                                  make_clinician, make_room, make_client):
    clinician, room = make_clinician(), make_room()
    clients = [make_client() for _ in range(50)]
    results = fire_together(server.url, front_desk_token, one_slot_bodies(clinician, room, clients))

    assert statuses(results) == Counter({201: 1, 409: 49}), statuses(results)
    winner = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 409:
            # Whether the pre-check or the database caught it, the same answer.
            assert body["error"] == "conflict"
            clash = body["conflicts"][0]
            assert clash["number"] == 1
            assert set(clash["clashes_with"]) == {"clinician", "room"}
            assert {c["session"]["course_id"] for c in clash["clashes"]} == {winner["id"]}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Course)) == 1
        rows = db.session.execute(select(TherapySession.course_id)).all()
        assert rows == [(winner["id"],)]


def test_colliding_series_leave_one_whole_series(app, server, front_desk_token,
                                                 make_clinician, make_room, make_client):
    shared_room = make_room("Shared room")
    bodies = []
    for _ in range(20):
        # Own clinician, room and client: the series meet nowhere but in
        # their 7th week, which every one of them moves to the shared room.
        bodies.append({"client_ids": [make_client()], "clinician_id": make_clinician(),
                       "room_id": make_room(), "first_date": "2031-09-01",
                       "start_time": "14:00", "duration_minutes": 50, "session_count": 16,
                       "overrides": [{"number": 7, "room_id": shared_room}]})
    results = fire_together(server.url, front_desk_token, bodies)

    assert statuses(results) == Counter({201: 1, 409: 19}), statuses(results)
    winner = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 409:
            assert [c["number"] for c in body["conflicts"]] == [7]
            assert body["conflicts"][0]["clashes_with"] == ["room"]
    with app.app_context():
        per_course = dict(db.session.execute(
            select(TherapySession.course_id, func.count()).group_by(TherapySession.course_id)).all())
        assert per_course == {winner["id"]: 16}
        assert db.session.scalar(select(func.count()).select_from(Course)) == 1
        assert db.session.scalar(select(func.count()).select_from(SessionParticipant)) == 16
        week7 = db.session.scalar(select(TherapySession).where(
            TherapySession.course_id == winner["id"], TherapySession.number == 7))
        assert week7.room_id == shared_room


def test_two_hundred_distinct_slots_all_succeed(app, server, front_desk_token,
                                                make_clinician, make_room, make_client):
    # One clinician and one room, a client per booking (a diary filling up):
    # every booking touches the same index ranges, but no two slots overlap
    # (half-open intervals: 10:00-10:30 and 10:30-11:00 are both fine).
    clinician, room = make_clinician(), make_room()
    first = date(2031, 3, 3)
    bodies = []
    for i in range(200):
        day = first + timedelta(days=i // 20)
        minute = 8 * 60 + 30 * (i % 20)
        bodies.append({"client_ids": [make_client()], "clinician_id": clinician, "room_id": room,
                       "first_date": day.isoformat(),
                       "start_time": f"{minute // 60:02d}:{minute % 60:02d}",
                       "duration_minutes": 30, "session_count": 1})
    results = fire_together(server.url, front_desk_token, bodies)

    assert statuses(results) == Counter({201: 200}), [r for r in results if r[0] != 201][:5]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TherapySession)) == 200
    assert "database is locked" not in server.log()
