"""The record of feed fetches, written off the request path.

Calendar apps poll every feed every few minutes, and a fetch's answer never
depends on its own record, so each worker queues the rows (link id, status,
user agent, time of the answer) and a background thread writes them in one
transaction every ``FEED_FETCH_FLUSH_SECONDS`` (default 1). A worker that
stops normally (gunicorn's graceful stop, the end of a test run) writes what
is left at exit; a worker killed outright loses at most that last second of
records. ``FEED_FETCH_FLUSH_SECONDS = 0`` writes each row as the response
closes (the test suite does, to assert on rows at once).

The queue is bounded (``MAX_QUEUED``): while the database is down it keeps
the newest rows and says in the log how many it dropped. Never the token:
only the link's id is queued.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from datetime import datetime

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..db import ProcessThread, utcnow
from ..extensions import db
from ..models import FeedFetch

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
Row = dict  # feed_token_id, status, user_agent, at


class FetchLog:
    """One per app (``app.extensions["practice_feed_fetches"]``)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get("FEED_FETCH_FLUSH_SECONDS", 1.0))
        self._rows: deque[Row] = deque(maxlen=MAX_QUEUED)
        self._lock = threading.Lock()
        self._dropped = 0
        self._thread = ProcessThread("feed-fetch-log", self._run)

    def record(self, feed_token_id: int | None, status: int, user_agent: str | None,
               at: datetime | None = None) -> None:
        row = {"feed_token_id": feed_token_id, "status": status,
               "user_agent": (user_agent or "")[:300] or None, "at": at or utcnow()}
        if self.interval <= 0:
            self._write([row])
            return
        with self._lock:
            if len(self._rows) == MAX_QUEUED:
                self._dropped += 1
            self._rows.append(row)
        if self._thread.start():
            atexit.register(self._at_exit)

    def flush(self) -> int:
        """Write every queued row now; how many were written."""
        with self._lock:
            rows = list(self._rows)
            self._rows.clear()
            dropped, self._dropped = self._dropped, 0
        if dropped:
            log.warning("feed fetch log: %d records dropped while the queue was full", dropped)
        if rows:
            self._write(rows)
        return len(rows)

    def pending(self) -> int:
        return len(self._rows)

    # -- the writer (one thread per process: ``ProcessThread``) -----------------------
    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait(self.interval)
            wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the thread must outlive any one failure
                log.exception("feed fetch log: flush failed")

    def _at_exit(self) -> None:
        if self._thread.pid == os.getpid():
            try:
                self.flush()
            except Exception:  # noqa: BLE001
                log.exception("feed fetch log: final flush failed")

    def _write(self, rows: list[Row]) -> None:
        with self.app.app_context():
            try:
                with db.engine.begin() as conn:
                    conn.execute(FeedFetch.__table__.insert(), rows)
            except SQLAlchemyError:
                if len(rows) == 1:
                    raise
                # One bad row (a link deleted meanwhile) must not lose the rest.
                for row in rows:
                    try:
                        with db.engine.begin() as conn:
                            conn.execute(FeedFetch.__table__.insert(), [row])
                    except SQLAlchemyError as err:
                        log.error("feed fetch log: a record was not written (%s)",
                                  type(err).__name__)


def fetch_log(app: Flask) -> FetchLog:
    return app.extensions["practice_feed_fetches"]
