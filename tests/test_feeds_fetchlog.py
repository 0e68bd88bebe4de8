"""The feed fetch record, written in batches off the request path: by the
background thread within its interval, at a worker's graceful stop, and never
losing the good rows of a batch to a bad one."""
from __future__ import annotations

import signal
import subprocess
import sys
import time as clock
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from feeds_factory import feed_link, make_course

from practice import create_app
from practice.extensions import db
from practice.feeds import fetchlog
from practice.feeds.fetchlog import FetchLog, fetch_log
from practice.models import FeedFetch, FeedToken

ROOT = Path(__file__).resolve().parent.parent


def _count(app, **where) -> int:
    with app.app_context():
        q = db.select(db.func.count(FeedFetch.id))
        for key, value in where.items():
            q = q.where(getattr(FeedFetch, key) == value)
        return db.session.scalar(q)


@pytest.fixture
def link(app, make_clinician, make_room, make_client):
    clinician, room, person = make_clinician("Dr Batch"), make_room(), make_client()
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date.today() + timedelta(days=7), weeks=2,
                    tz=app.config["PRACTICE_TIMEZONE"])
        path = feed_link(clinician_id=clinician)
    return path


def test_rows_wait_in_the_queue_and_the_thread_writes_them(app_config, link):
    app = create_app({**app_config, "FEED_FETCH_FLUSH_SECONDS": 0.3})
    client = app.test_client()
    statuses = []
    for headers in ({}, {}, {"User-Agent": "Thunderbird"}):
        resp = client.get(link, headers=headers)
        statuses.append(resp.status_code)
        resp.close()
    missing = client.get("/feeds/not-a-link.ics")
    missing.close()
    assert statuses == [200, 200, 200]
    deadline = clock.monotonic() + 10
    while _count(app) < 4 and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert _count(app) == 4
    assert _count(app, status=404) == 1 and _count(app, user_agent="Thunderbird") == 1
    assert fetch_log(app).pending() == 0


def test_a_row_whose_link_is_gone_does_not_lose_the_others(app_config, app, link):
    log = FetchLog(create_app({**app_config, "FEED_FETCH_FLUSH_SECONDS": 3600}))
    with app.app_context():
        real = db.session.scalar(db.select(db.func.max(FeedToken.id)))
    log.record(None, 404, "a")
    log.record(2**31 - 2, 200, "b")  # no such link: the foreign key refuses it
    log.record(real, 304, "c")
    assert log.pending() == 3
    assert log.flush() == 3
    assert log.pending() == 0
    assert _count(app) == 2
    assert _count(app, user_agent="b") == 0


def test_a_full_queue_keeps_the_newest_rows(app_config, app, monkeypatch):
    monkeypatch.setattr(fetchlog, "MAX_QUEUED", 3)
    log = FetchLog(create_app({**app_config, "FEED_FETCH_FLUSH_SECONDS": 3600}))
    for n in range(5):
        log.record(None, 404, f"agent {n}")
    assert log.pending() == 3
    log.flush()
    with app.app_context():
        agents = sorted(db.session.scalars(db.select(FeedFetch.user_agent)))
    assert agents == ["agent 2", "agent 3", "agent 4"]


@pytest.mark.slow
def test_gunicorn_writes_queued_fetches_when_it_stops(app, app_config, link, tmp_path):
    """An interval of an hour: nothing is written while serving, and all of
    it when the workers are stopped gracefully."""
    from server_helpers import free_port

    port = free_port()
    config = {"DATABASE_URL": app_config["DATABASE_URL"], "SECRET_KEY": "test-secret",
              "PRACTICE_TIMEZONE": app.config["PRACTICE_TIMEZONE"], "PRACTICE_PLUGINS": "",
              "INSTANCE_PATH": str(tmp_path), "FEED_FETCH_FLUSH_SECONDS": 3600}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--error-logfile", str(tmp_path / "error.log"), f"practice:create_app({config!r})"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = clock.monotonic() + 30
        while True:
            assert proc.poll() is None, "gunicorn exited"
            try:  # probe with an unknown link: a retried probe adds only 404s
                requests.get(base + "/feeds/warming-up.ics", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert clock.monotonic() < deadline, "gunicorn did not start"
                clock.sleep(0.2)
        first = requests.get(base + link, timeout=30)
        assert first.status_code == 200
        for _ in range(5):
            assert requests.get(base + link, timeout=30,
                                headers={"If-None-Match": first.headers["ETag"]}
                                ).status_code == 304
        clock.sleep(0.5)
        assert _count(app) == 0, "written while serving, not queued"
    finally:
        proc.send_signal(signal.SIGTERM)  # our own gunicorn, stopped gracefully
        proc.wait(timeout=30)
    assert _count(app, status=200) == 1
    assert _count(app, status=304) == 5
