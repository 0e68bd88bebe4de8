"""Feed tokens never reach a log: real gunicorn (with the repository's
gunicorn.conf.py) and the real werkzeug server, over real HTTP, and their
access logs read back. Fetches are recorded once the response is sent."""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time as clock
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from feeds_factory import feed_link, make_course
from icalendar import Calendar

from practice.extensions import db
from practice.feeds.logfilter import RedactFeedTokens, redact
from practice.models import FeedFetch

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture
def link(app, make_clinician, make_room, make_client):
    clinician, room, person = make_clinician("Dr Log"), make_room(), make_client()
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date.today() + timedelta(days=7), weeks=3,
                    tz=app.config["PRACTICE_TIMEZONE"])
        path = feed_link(clinician_id=clinician)
    return path, path.removeprefix("/feeds/").removesuffix(".ics")


def test_filter_rewrites_a_record_and_keeps_the_rest():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               '%s - - "%s" %s', ("127.0.0.1", "GET /feeds/AbC_d-9.ics?x=1 "
                                                  "HTTP/1.1", 200), None)
    assert RedactFeedTokens().filter(record) is True
    assert record.getMessage() == '127.0.0.1 - - "GET /feeds/[redacted].ics?x=1 HTTP/1.1" 200'
    assert redact("/feeds/abc") == "/feeds/[redacted]"
    assert redact("GET /api/rooms HTTP/1.1") == "GET /api/rooms HTTP/1.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(base + "/feeds/warming-up.ics", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            clock.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def test_gunicorn_access_log_has_no_token(app, app_config, link, tmp_path):
    path, token = link
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "SECRET_KEY": "test-secret", "PRACTICE_TIMEZONE": app.config["PRACTICE_TIMEZONE"],
           "PRACTICE_PLUGINS": ""}
    # The repository's gunicorn.conf.py is picked up from the working directory.
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--access-logfile", str(access), "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        # No Accept header at all, as Google sends it.
        ok = requests.get(base + path, headers={"Accept": None, "User-Agent": "Google"},
                          timeout=10)
        assert ok.status_code == 200
        assert ok.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert len(Calendar.from_ical(ok.content).walk("VEVENT")) == 3
        again = requests.get(base + path, headers={"If-None-Match": ok.headers["ETag"]},
                             timeout=10)
        assert again.status_code == 304 and again.content == b""
        head = requests.head(base + path, timeout=10)
        assert head.status_code == 200 and head.headers["ETag"] == ok.headers["ETag"]
        assert requests.get(base + "/feeds/" + token[::-1] + ".ics", timeout=10).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)  # our own gunicorn, stopped gracefully
        proc.wait(timeout=30)
    log = access.read_text()
    assert token not in log and token not in errors.read_text()
    assert log.count("/feeds/[redacted].ics") >= 5
    assert " 304 " in log
    with app.app_context():
        rows = db.session.scalars(db.select(FeedFetch)).all()
    # Start-up probes add 404s (without a link id) before ours.
    assert sorted(r.status for r in rows if r.feed_token_id) == [200, 200, 304]
    assert {r.status for r in rows if r.feed_token_id is None} == {404}


@pytest.fixture
def werkzeug_logger():
    """The werkzeug logger, enabled: Alembic's fileConfig, run in-process by
    the test set-up, disables loggers that already exist."""
    logger = logging.getLogger("werkzeug")
    disabled = logger.disabled
    logger.disabled = False
    yield logger
    logger.disabled = disabled


def test_werkzeug_request_log_has_no_token(app, link, caplog, werkzeug_logger):
    from werkzeug.serving import make_server

    path, token = link
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            resp = requests.get(f"http://127.0.0.1:{server.server_port}{path}", timeout=10)
            assert resp.status_code == 200
            deadline = clock.monotonic() + 5
            while "/feeds/" not in caplog.text and clock.monotonic() < deadline:
                clock.sleep(0.05)  # the server logs after it answered
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert "/feeds/[redacted].ics" in caplog.text
    assert token not in caplog.text
