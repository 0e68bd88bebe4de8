"""Database plumbing shared by both engines.

- ``UTCDateTime`` stores instants in UTC (timestamptz on PostgreSQL, naive UTC
  text on SQLite) and always hands back aware datetimes.
- SQLite connections get WAL, foreign keys and a busy timeout, and every
  transaction starts with ``BEGIN IMMEDIATE`` so two writers never both read
  "free" and then both write: the second waits for the first to commit.
- SQLite WAL checkpoints run off the request path (``Checkpointer``).
"""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's own checkpoint runs inside the COMMIT that pushes the WAL past
# 1,000 pages: about one booking in 14 paid ~20 ms for it, which was the
# p95. A background PASSIVE checkpoint every few commits (``Checkpointer``)
# does that work instead; the automatic one stays as a safety net, at a
# size it only reaches if the background ones cannot keep up (~40 MB).
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_EVERY_COMMITS = 8


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_sqlite(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


class ProcessThread:
    """A daemon thread running ``loop(wake)``, started by ``start()`` once in
    each process: gunicorn forks its workers after the app (and perhaps the
    thread) exists, and a forked child has none of its parent's threads.
    ``wake`` is the thread's event, for whoever wants to wake it early.
    """

    def __init__(self, name: str, loop) -> None:
        self.name, self.loop = name, loop
        self.pid: int | None = None  # the process whose thread is running
        self.wake = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Start the thread unless this process has it; True if started now."""
        pid = os.getpid()
        if self.pid == pid:
            return False
        with self._lock:
            if self.pid == pid:
                return False
            self.wake = threading.Event()
            threading.Thread(target=self.loop, args=(self.wake,), name=self.name,
                             daemon=True).start()
            self.pid = pid
            return True


class Checkpointer:
    """PASSIVE WAL checkpoints of one SQLite file, from a daemon thread.

    ``committed()`` (called on every COMMIT) wakes the thread every
    ``CHECKPOINT_EVERY_COMMITS``; it opens its own short-lived connection and
    runs ``PRAGMA wal_checkpoint(PASSIVE)``, which copies committed pages into
    the database without waiting for readers or writers and never blocks
    them (sqlite3 releases the GIL while it works). Safe with several
    gunicorn workers: each process has its own thread, and SQLite lets one
    checkpoint run at a time (a second one answers "busy" and is skipped).
    The thread is started lazily, and again in a forked child; the
    connection is opened with ``mode=rw`` so a deleted file is never created
    again. If the thread cannot keep up, SQLite's automatic checkpoint (at
    ``SQLITE_WAL_AUTOCHECKPOINT_PAGES``) still bounds the WAL.
    """

    _by_path: dict[str, Checkpointer] = {}
    _lock = threading.Lock()

    def __init__(self, path: str):
        self.uri = f"file:{quote(path)}?mode=rw"
        self.commits = 0
        self.thread = ProcessThread("sqlite-checkpoint", self._run)
        self.runs = 0  # checkpoints done (tests read it)

    @property
    def pid(self) -> int | None:
        """The process whose checkpoint thread runs (None: not started)."""
        return self.thread.pid

    @classmethod
    def for_path(cls, path: str) -> Checkpointer:
        key = str(Path(path).resolve())
        with cls._lock:
            if key not in cls._by_path:
                cls._by_path[key] = cls(key)
            return cls._by_path[key]

    def committed(self) -> None:
        self.commits += 1
        if self.commits >= CHECKPOINT_EVERY_COMMITS:
            self.commits = 0
            self.request()

    def request(self) -> None:
        self.thread.start()  # first use, or a forked worker: no thread yet
        self.thread.wake.set()

    def checkpoint(self) -> None:
        try:
            conn = sqlite3.connect(self.uri, uri=True, timeout=0, isolation_level=None)
        except sqlite3.Error:
            return  # the file is gone (a test's database): nothing to do
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        except sqlite3.Error:
            pass  # busy (another checkpoint): the next one catches up
        finally:
            conn.close()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait()
            wake.clear()
            self.checkpoint()


def configure_engine(engine: Engine) -> None:
    """Attach SQLite pragmas, BEGIN IMMEDIATE and background WAL checkpoints;
    nothing to do for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    path = engine.url.database
    checkpointer = Checkpointer.for_path(path) if path and path != ":memory:" \
        and not path.startswith("file:") else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        if checkpointer is not None:
            cur.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cur.close()

    if checkpointer is not None:
        @event.listens_for(engine, "commit")
        def _on_commit(conn):
            if not conn.get_execution_options().get("read_only"):  # reads add no pages
                checkpointer.committed()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Work that only reads (calendar feeds) says so with the execution
        # option ``read_only``: a deferred BEGIN, which WAL lets run beside a
        # writer instead of queueing for the write lock.
        if conn.get_execution_options().get("read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
