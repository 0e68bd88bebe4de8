"""Stateful fuzzing: a hypothesis state machine books courses (valid and
boundary inputs), moves, cancels (with and without a make-up), records
attendance and extends them through the real HTTP API (Flask test client,
the same WSGI app gunicorn serves). The OpenAPI document has no links (adding
them would change the API), so the machine supplies the ids itself.

After every step: no 5xx; schemathesis' checks (status listed, content type,
response schema for that status) on the answer; and the invariants: no two
non-cancelled sessions of one clinician, room or client overlap, and a
refused request (4xx) changed nothing.

``FUZZ_EXAMPLES`` (see test_fuzz_openapi.py) makes the run bigger.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule,
                                 run_state_machine_as_test)
from sqlalchemy import text

import fuzz_strategies as fz
from practice.extensions import db

pytestmark = pytest.mark.slow
BIG = os.environ.get("FUZZ_EXAMPLES")
EXAMPLES = max(int(BIG) // 3, 10) if BIG else 8
STEPS = 30 if BIG else 20

# Mostly schedulable (past and future, so attendance can be recorded), often
# at the boundaries.
PLAIN_DATES = st.dates(fz.date(2024, 1, 1), fz.date(2031, 12, 31)).map(fz.iso)
DATES = st.one_of(PLAIN_DATES, PLAIN_DATES, fz.scheduling_dates())
TIMES = st.one_of(fz.valid_clock_times(), fz.valid_clock_times(), fz.clock_times())


@pytest.fixture
def world(app, make_user, token_for, make_clinician, make_room, make_client):
    from conftest import _empty_tables

    def reset():
        """Each example starts from the same practice, so hypothesis can replay it."""
        with app.app_context():
            _empty_tables()
        world["token"] = token_for(make_user("admin"))
        world["clinicians"] = [make_clinician(modalities=["general"]) for _ in range(2)]
        world["rooms"] = [make_room(capacity=2) for _ in range(2)]
        world["clients"] = [make_client() for _ in range(3)]

    world = {"app": app, "reset": reset,
             "schema": schemathesis.openapi.from_wsgi("/api/openapi.json", app)}
    return world


def _snapshot(app):
    with app.app_context():
        with db.engine.connect() as conn:
            sessions = conn.execute(text(
                "SELECT id, course_id, number, clinician_id, room_id, starts_at, ends_at, status "
                "FROM sessions ORDER BY id")).all()
            courses = conn.execute(text(
                "SELECT id, planned_sessions, status, room_id, weekday, start_time FROM courses "
                "ORDER BY id")).all()
            links = conn.execute(text(
                "SELECT s.id, cc.client_id FROM sessions s JOIN course_clients cc "
                "ON cc.course_id = s.course_id ORDER BY s.id")).all()
    return sessions, courses, links


def _overlaps(sessions, links):
    live = [s for s in sessions if not str(s.status).startswith("cancel")]
    clients = {}
    for sid, cid in links:
        clients.setdefault(sid, set()).add(cid)
    found = []
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if str(a.starts_at) < str(b.ends_at) and str(b.starts_at) < str(a.ends_at):
                if a.clinician_id == b.clinician_id or a.room_id == b.room_id or (
                        clients.get(a.id, set()) & clients.get(b.id, set())):
                    found.append((a, b))
    return found


def make_machine(world):
    schema, app = world["schema"], world["app"]
    checks = fz.fuzz_checks()
    counts = world.setdefault("counts", {})

    class Practice(RuleBasedStateMachine):
        courses = Bundle("courses")

        @initialize()
        def start(self):
            world["reset"]()
            self.headers = {"Authorization": f"Bearer {world['token']}"}

        def call(self, path, method, path_parameters=None, body=None):
            operation = schema[path][method]
            case = operation.Case(path_parameters=path_parameters or {}, body=body,
                                  media_type="application/json")
            before = _snapshot(app)
            response = case.call(headers=self.headers)
            label = f"{method} {path}"
            counts.setdefault(label, {}).setdefault(response.status_code, 0)
            counts[label][response.status_code] += 1
            assert response.status_code < 500, (label, body, response.text[:500])
            case.validate_response(response, checks=checks, headers=self.headers)
            fz.assert_documented_status(operation.definition.raw, response.status_code)
            if 400 <= response.status_code < 500 or (isinstance(body, dict) and body.get("dry_run")):
                assert _snapshot(app) == before, ("refused or dry run changed something", label, body)
            return response

        @rule(target=courses, first_date=DATES, start_time=TIMES,
              clinician=st.sampled_from([0, 1]), room=st.sampled_from([0, 1]),
              clients=st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=2, unique=True),
              count=st.integers(1, 8), interval=st.integers(1, 2), dry_run=st.booleans())
        def book(self, first_date, start_time, clinician, room, clients, count, interval, dry_run):
            r = self.call("/api/courses", "POST", body={
                "clinician_id": world["clinicians"][clinician], "room_id": world["rooms"][room],
                "client_ids": [world["clients"][i] for i in clients],
                "first_date": first_date, "start_time": start_time, "session_count": count,
                "interval_weeks": interval, "dry_run": dry_run})
            return r.json()["id"] if r.status_code == 201 else multiple()

        @rule(course=courses, number=st.integers(1, 9), form=st.sampled_from(["instant", "local"]),
              day=DATES, at=TIMES, offset=st.sampled_from(fz.OFFSETS),
              scope=st.sampled_from(["this", "following"]), dry_run=st.booleans())
        def move(self, course, number, form, day, at, offset, scope, dry_run):
            body = ({"starts_at": f"{day}T{at}:00{offset}"} if form == "instant"
                    else {"date": day, "start_time": at})
            body.update(scope=scope, dry_run=dry_run)
            self.call("/api/courses/{course_id}/sessions/{number}/reschedule", "POST",
                          {"course_id": course, "number": number}, body)

        @rule(course=courses, number=st.integers(1, 9), by=st.sampled_from(["client", "practice"]),
              make_up=st.one_of(st.none(), st.booleans()))
        def cancel(self, course, number, by, make_up):
            body = {"by": by, "reason": "fuzz"}
            if make_up is not None:
                body["make_up"] = make_up
            self.call("/api/courses/{course_id}/sessions/{number}/cancel", "POST",
                          {"course_id": course, "number": number}, body)

        @rule(course=courses, number=st.integers(1, 9),
              status=st.sampled_from(["attended", "no_show"]), make_up=st.booleans())
        def attend(self, course, number, status, make_up):
            self.call("/api/courses/{course_id}/sessions/{number}/attendance", "POST",
                          {"course_id": course, "number": number},
                          {"status": status, "make_up": make_up})

        @rule(course=courses, sessions=st.integers(1, 52))
        def extend(self, course, sessions):
            self.call("/api/courses/{course_id}/extend", "POST", {"course_id": course},
                          {"sessions": sessions, "reason": "fuzz"})

        @invariant()
        def nothing_overlaps(self):
            sessions, _, links = _snapshot(app)
            assert not _overlaps(sessions, links)

    return Practice


def test_book_move_cancel_attend_extend(world):
    machine = make_machine(world)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        derandomize=not BIG, suppress_health_check=list(HealthCheck)))
    counts = world["counts"]
    print(f"\nstateful: {sum(sum(c.values()) for c in counts.values())} requests")
    for label, by_status in sorted(counts.items()):
        print(f"  {sum(by_status.values()):5d}  {label}  {dict(sorted(by_status.items()))}")
    # The machine reached past validation: courses were booked and changed.
    assert counts["POST /api/courses"].get(201, 0) >= 1, counts
    assert any(c.get(200, 0) for label, c in counts.items() if "sessions" in label), counts
