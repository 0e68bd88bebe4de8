"""SQLite WAL checkpoints run in a background thread, not inside a booking's COMMIT.

Real bookings over the API against the real SQLite file; PostgreSQL has no
WAL file of ours to checkpoint, so these tests are SQLite's only.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from practice import db as practice_db
from practice.db import (CHECKPOINT_EVERY_COMMITS, SQLITE_WAL_AUTOCHECKPOINT_PAGES,
                         Checkpointer)
from practice.extensions import db

from conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's WAL only")


def _checkpointer(app) -> Checkpointer:
    with app.app_context():
        return Checkpointer.for_path(db.engine.url.database)


def _wait_for(cond, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_app_connections_leave_checkpoints_to_the_background(app):
    with app.app_context():
        with db.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    assert pages == SQLITE_WAL_AUTOCHECKPOINT_PAGES


def test_bookings_are_checkpointed_by_the_background_thread(api_as, make_clinician,
                                                            make_room, make_client, app):
    desk = api_as("front_desk")
    cp = _checkpointer(app)
    before = cp.runs
    clinician, room = make_clinician(), make_room()
    for k in range(CHECKPOINT_EVERY_COMMITS + 1):
        r = desk.post("/api/courses", json={
            "client_ids": [make_client()], "clinician_id": clinician, "room_id": room,
            "first_date": "2031-01-06", "start_time": f"{8 + k:02d}:00",
            "duration_minutes": 50, "session_count": 16})
        assert r.status_code == 201, r.json
    assert _wait_for(lambda: cp.runs > before), "no background checkpoint ran"
    with app.app_context():
        path = db.engine.url.database
    # After a checkpoint with no writer since, every frame in the WAL has been
    # copied into the database file: a PASSIVE checkpoint finds none left.
    conn = sqlite3.connect(path)
    try:
        def caught_up():
            busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return busy == 0 and log == done
        assert _wait_for(caught_up)
    finally:
        conn.close()
    # And the data is all there.
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM sessions")).scalar() == \
            16 * (CHECKPOINT_EVERY_COMMITS + 1)


def test_reads_do_not_wake_the_checkpointer(app):
    cp = _checkpointer(app)
    with app.app_context():
        commits = cp.commits
        for _ in range(3):
            with db.engine.connect().execution_options(read_only=True) as conn:
                conn.execute(text("SELECT 1"))
                conn.commit()
        assert cp.commits == commits
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.commit()
        assert cp.commits == (commits + 1) % CHECKPOINT_EVERY_COMMITS


def test_a_deleted_database_is_not_created_again(tmp_path):
    path = tmp_path / "gone.sqlite3"
    cp = Checkpointer(str(path))
    cp.checkpoint()
    assert not Path(path).exists()
    assert cp.runs == 0


def test_a_forked_worker_gets_a_thread_of_its_own(tmp_path, monkeypatch):
    path = tmp_path / "fork.sqlite3"
    sqlite3.connect(path).execute("PRAGMA journal_mode = WAL").fetchall()
    cp = Checkpointer(str(path))
    cp.request()
    assert _wait_for(lambda: cp.runs == 1)
    first_pid = cp.pid
    # As if the process had forked: the thread is the parent's, not ours.
    monkeypatch.setattr(practice_db.os, "getpid", lambda: first_pid + 1)
    cp.request()
    assert cp.pid == first_pid + 1
    assert _wait_for(lambda: cp.runs == 2)
