"""Booking a 16-session series over HTTP, beside the raw SQL of the same work.

The HTTP figure is ``POST /api/courses`` against a real gunicorn (one worker,
keep-alive), each request a new weekly series in a lane the seed left free
(a clinician, a room and a new client free for all 16 weeks), so every
answer is a 201 that writes 16 sessions and their participant rows.

The baseline does the bare minimum by hand, through the database driver, in
one transaction: a pre-check query for overlapping sessions of the
clinician, the room and the client over the series' span, one course row,
then 16 sessions and 16 participant rows one insert each, with the overlap
triggers (SQLite) or exclusion constraints (PostgreSQL) checking them. On
SQLite it checkpoints the WAL the way the app does (``practice.db.Checkpointer``:
in the background, not inside a COMMIT), so both sides pay the same.

Every course either side writes is deleted afterwards, so the next
benchmark sees the seeded practice.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import cycle
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .harness import Context, Result, api_session, log, result, timed
from .plan import SESSION_MINUTES, SLOTS

SESSIONS = 16
NAME = "book a 16-session series (HTTP)"
TARGET_MS = {"sqlite": 30.0, "postgresql": 40.0}
# Series start this many weeks apart: 16 weeks, plus room for weeks skipped
# over closures and absences (moved to the end), so two never meet.
PERIOD_WEEKS = 20


@dataclass(frozen=True)
class Booking:
    clinician_id: int
    room_id: int
    client_id: int
    first_date: date
    hour: int

    def body(self) -> dict:
        return {"client_ids": [self.client_id], "clinician_id": self.clinician_id,
                "room_id": self.room_id, "modality": "general",
                "first_date": self.first_date.isoformat(), "start_time": f"{self.hour:02d}:00",
                "duration_minutes": SESSION_MINUTES, "session_count": SESSIONS,
                "interval_weeks": 1}


def free_bookings(ids: dict) -> list[Booking]:
    """Series nobody else holds: lanes (weekday, hour) where the seed put
    neither the clinician nor the room, each with a client of its own."""
    busy_c = {(c, wd, h) for c, wd, h, _ in ids["lanes"]}
    busy_r = {(r, wd, h) for _, wd, h, r in ids["lanes"]}
    single_rooms = [r for r in ids["room_ids"] if ids["room_capacity"][r] <= 2] + \
        [r for r in ids["room_ids"] if ids["room_capacity"][r] > 2]
    clients = cycle(ids["free_client_ids"])
    out = []
    start = ids["bench_from"]
    while start + timedelta(weeks=PERIOD_WEEKS) <= ids["year_end"]:
        per_slot = []
        for wd, h in SLOTS:
            docs = [c for c in ids["clinician_ids"] if (c, wd, h) not in busy_c]
            rooms = [r for r in single_rooms if (r, wd, h) not in busy_r]
            per_slot.append([(c, r, wd, h) for c, r in zip(docs, rooms)])
        # Round robin over the slots, so consecutive bookings spread over the week.
        for k in range(max(len(p) for p in per_slot)):
            for pairs in per_slot:
                if k < len(pairs):
                    c, r, wd, h = pairs[k]
                    out.append(Booking(c, r, next(clients), start + timedelta(days=wd), h))
        start += timedelta(weeks=PERIOD_WEEKS)
    return out


def remove_bench_courses(database_url: str, max_course_id: int) -> None:
    """Delete what the benchmark booked (courses after the seed's last). Their
    audit rows stay: the audit log is append-only in the database (migration
    0007's triggers refuse DELETE)."""
    engine = create_engine(make_url(database_url))
    with engine.begin() as conn:
        for sql in (
            "DELETE FROM session_participants WHERE session_id IN "
            "(SELECT id FROM sessions WHERE course_id > :m)",
            "DELETE FROM sessions WHERE course_id > :m",
            "DELETE FROM course_flags WHERE course_id > :m",
            "DELETE FROM course_clients WHERE course_id > :m",
            "DELETE FROM courses WHERE id > :m",
        ):
            conn.execute(text(sql), {"m": max_course_id})
    engine.dispose()


# -- the baseline: the same work in raw SQL -------------------------------------------------
class RawBooker:
    """Books a series through the bare database driver (no ORM, no HTTP)."""

    def __init__(self, database_url: str, zone: str):
        url = make_url(database_url)
        self.pg = url.get_backend_name() == "postgresql"
        self.zone = ZoneInfo(zone)
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(
                hide_password=False))
            self.p = "%s"
        else:
            import sqlite3

            from practice.db import SQLITE_WAL_AUTOCHECKPOINT_PAGES, Checkpointer

            self.conn = sqlite3.connect(url.database, isolation_level=None)
            # The pragmas the app's connections use (practice/db.py), and its
            # WAL checkpoints in the background rather than in a COMMIT.
            for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "synchronous = NORMAL",
                           "foreign_keys = ON",
                           f"wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.checkpointer = Checkpointer.for_path(url.database)
            self.p = "?"

    def _ts(self, dt: datetime):
        # SQLite stores instants as naive UTC text, the way SQLAlchemy writes them.
        return dt if self.pg else dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

    def book(self, b: Booking) -> None:
        p, ts = self.p, self._ts
        starts = [datetime.combine(b.first_date + timedelta(weeks=k), time(b.hour),
                                   tzinfo=self.zone).astimezone(timezone.utc)
                  for k in range(SESSIONS)]
        ends = [s + timedelta(minutes=SESSION_MINUTES) for s in starts]
        now = datetime.now(timezone.utc)
        cur = self.conn.cursor()
        cur.execute("BEGIN" if self.pg else "BEGIN IMMEDIATE")
        # One query per kind: anything of the clinician, the room or the client
        # overlapping any of the 16 intervals, an OR of one index range each
        # (lo bounds the range: no session lasts a day). A join against a
        # VALUES list made PostgreSQL read the clinician's whole history.
        def owned(owner: str) -> str:
            term = (f"({owner} = {p} AND s.starts_at < {p} AND s.starts_at > {p} "
                    f"AND s.ends_at > {p})")
            return " OR ".join([term] * SESSIONS)

        def args(owner_id: int) -> list:
            return [x for a, e in zip(starts, ends)
                    for x in (owner_id, ts(e), ts(a - timedelta(days=1)), ts(a))]

        live = "s.status NOT IN ('cancelled_by_client', 'cancelled_by_practice')"
        cur.execute(
            f"SELECT s.id FROM sessions s WHERE {live} AND "
            f"({owned('s.clinician_id')} OR {owned('s.room_id')}) "
            f"UNION ALL SELECT s.session_id FROM session_participants s "
            f"WHERE s.active AND ({owned('s.client_id')})",
            args(b.clinician_id) + args(b.room_id) + args(b.client_id))
        if cur.fetchall():
            raise RuntimeError("the raw booking found a clash: the lane was not free")
        cur.execute(
            "INSERT INTO courses (clinician_id, room_id, modality, planned_sessions, weekday, "
            "start_time, duration_minutes, interval_weeks, first_date, timezone, status, "
            f"modality_data, created_at, updated_at) VALUES ({', '.join([p] * 14)}) RETURNING id",
            (b.clinician_id, b.room_id, "general", SESSIONS, b.first_date.weekday(),
             time(b.hour) if self.pg else f"{b.hour:02d}:00:00.000000", SESSION_MINUTES, 1,
             b.first_date if self.pg else b.first_date.isoformat(), self.zone.key, "active",
             "{}", ts(now), ts(now)))
        course_id = cur.fetchone()[0]
        for k in range(SESSIONS):
            cur.execute(
                "INSERT INTO sessions (course_id, number, clinician_id, room_id, starts_at, "
                "ends_at, status, is_make_up, uid, sequence, created_at, updated_at) "
                f"VALUES ({', '.join([p] * 12)}) RETURNING id",
                (course_id, k + 1, b.clinician_id, b.room_id, ts(starts[k]), ts(ends[k]),
                 "scheduled", False, f"{uuid.uuid4()}@practice", 0, ts(now), ts(now)))
            session_id = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO session_participants (session_id, client_id, starts_at, ends_at, "
                f"active) VALUES ({', '.join([p] * 5)})",
                (session_id, b.client_id, ts(starts[k]), ts(ends[k]), True))
        cur.execute("COMMIT")
        if not self.pg:
            self.checkpointer.committed()

    def close(self) -> None:
        self.conn.close()


class Bench:
    """The two measured calls, HTTP and raw SQL, each booking a fresh free series."""

    def __init__(self, ids: dict, base_url: str, bookings: list[Booking] | None = None):
        self.plan = iter(bookings if bookings is not None else free_bookings(ids))
        self.api = api_session(ids["token"])
        self.base_url = base_url
        self.raw_booker = RawBooker(ids["database_url"], ids["zone"])

    def _next(self) -> Booking:
        try:
            return next(self.plan)
        except StopIteration as err:
            raise RuntimeError("the seed left too few free lanes for this many bookings") \
                from err

    def http(self, _i: int = 0) -> None:
        r = self.api.post(self.base_url + "/api/courses", json=self._next().body())
        if r.status_code != 201:
            raise RuntimeError(f"booking answered {r.status_code}: {r.text[:500]}")

    def raw(self, _i: int = 0) -> None:
        self.raw_booker.book(self._next())

    def close(self) -> None:
        self.raw_booker.close()
        self.api.close()


def measure(ctx: Context, db: str, ids: dict, n: int, base_url: str,
            bookings: list[Booking] | None = None) -> tuple[list[float], list[float]]:
    """(HTTP samples, raw SQL samples) in ms."""
    bench = Bench(ids, base_url, bookings)
    try:
        return timed(bench.http, n), timed(bench.raw, n)
    finally:
        bench.close()


def run(ctx: Context) -> list[Result]:
    results = []
    for db in ctx.opts.dbs:
        ids = ctx.practice(db)
        log(f"booking: {ctx.opts.iterations} series over HTTP and in raw SQL on {db} ...")
        try:
            with ctx.server(ids) as base:
                http_ms, raw_ms = measure(ctx, db, ids, ctx.opts.iterations, base)
        finally:
            remove_bench_courses(ids["database_url"], ids["max_course_id"])
        results.append(result(NAME, db, ids["sessions"], http_ms,
                              raw_ms, TARGET_MS[db]))
    return results

