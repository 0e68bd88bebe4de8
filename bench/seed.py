"""Seed a practice-scale database for the benchmarks (SPEC section 10).

    from bench.seed import seed
    ids = seed("sqlite:////tmp/bench.sqlite3", sessions=60_000)

40 clinicians, 30 rooms on 3 sites, 3,000 clients and about 60,000 sessions
over one year by default. The schema comes from the real migrations, so the
overlap triggers (SQLite) and exclusion constraints (PostgreSQL) check every
seeded row; rows go in with COPY on PostgreSQL and one executemany per table
on SQLite. Deterministic for a given ``seed`` and ``today``.

Time layout (practice zone, weeks from Monday): the *current year* runs from
8 weeks before this week to 44 weeks after it and holds ``upcoming``
sessions (default: all of them, at most what the clinicians can hold); the
rest is *history* before it, at a busy practice's load (29 sessions per
clinician-week). Growing from 6,000 to 600,000 sessions with
``upcoming=6000`` keeps the current year identical and adds about ten years
of history: the same questions asked of a much bigger table.

See :mod:`bench.plan` for how the schedule is laid out without overlaps.
"""
from __future__ import annotations

import json
import math
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url

from .plan import (BLOCKS, FULL_LOAD_PER_CLINICIAN, ZONE, Generator, closures_for, mondays,
                   plan_lanes, room_layout)

PASSWORD = "bench-password-1"
FIRST = ("Alex", "Sam", "Jo", "Robin", "Kim", "Chris", "Pat", "Lee", "Nico", "Ari", "Dana",
         "Eli", "Fran", "Gabe", "Hana", "Ivo", "Jas", "Kai", "Lou", "Mo")
LAST = ("Okafor", "Smith", "Nguyen", "Garcia", "Kowalski", "Ahmed", "Rossi", "Novak", "Sato",
        "Dubois", "Jensen", "Silva", "Murphy", "Haddad", "Ivanova", "Brown", "Cohen", "Mensah")

COLUMNS = {
    "courses": ("id", "clinician_id", "room_id", "modality", "planned_sessions", "weekday",
                "start_time", "duration_minutes", "interval_weeks", "first_date", "timezone",
                "status", "modality_data", "created_at", "updated_at"),
    "course_clients": ("course_id", "client_id"),
    "sessions": ("id", "course_id", "number", "clinician_id", "room_id", "starts_at", "ends_at",
                 "status", "is_make_up", "cancelled_by", "cancel_reason", "cancelled_at", "uid",
                 "sequence", "created_at", "updated_at"),
    "session_participants": ("id", "session_id", "client_id", "starts_at", "ends_at", "active",
                             "attendance"),
}
JSON_COLUMNS = {"modality_data"}
CURRENT_WEEKS = 52
WEEKS_BEFORE = 8  # of the current year, before this week


def bench_app(database_url: str, instance_path: str | None = None):
    """The app the seed (and the raw-SQL baselines) talk through."""
    from practice import create_app

    return create_app({
        "DATABASE_URL": database_url, "SECRET_KEY": "bench", "PRACTICE_TIMEZONE": ZONE,
        "PRACTICE_PLUGINS": "", "INSTANCE_PATH": instance_path or tempfile.mkdtemp("-bench"),
    })


class _Steps:
    """Prints how long each seeding step took (``verbose``)."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.t = time.perf_counter()

    def __call__(self, what: str) -> None:
        now = time.perf_counter()
        if self.verbose:
            print(f"  seed: {what} in {now - self.t:.1f} s", file=sys.stderr, flush=True)
        self.t = now


def _reset(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)


def seed(database_url: str, sessions: int = 60_000, clinicians: int = 40, rooms: int = 30,
         clients: int = 3000, seed: int = 1, *, upcoming: int | None = None,
         today: date | None = None, verbose: bool = False) -> dict:
    """Build a fresh practice in ``database_url`` (its previous content is
    dropped) and return the ids and facts a benchmark needs."""
    from flask_migrate import upgrade

    from practice.extensions import db

    # Two random streams: the current year's draws never depend on how much
    # history there is, so every size shares the same current year.
    rng = random.Random(seed)
    history_rng = random.Random(seed * 7919 + 1)
    zone = ZoneInfo(ZONE)
    today = today or datetime.now(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    year_start = this_monday - timedelta(weeks=WEEKS_BEFORE)
    upcoming = min(sessions, upcoming if upcoming is not None else sessions)
    history_count = sessions - upcoming
    room_caps = room_layout(rooms)
    reserve = max(1, clients // 10)  # new referrals: no sessions yet, free to book

    # -- the schedule, in memory --------------------------------------------------------------
    absences = []
    absent = set()
    for c in range(clinicians):
        for week in rng.sample(range(CURRENT_WEEKS), 2):
            start = year_start + timedelta(weeks=week)
            absences.append((c + 1, start, start + timedelta(days=4), "Leave"))
            absent.update((c, start + timedelta(days=d)) for d in range(5))
    # A full year holds ~55,000 sessions at full load: closures generously far back.
    current = mondays(year_start, CURRENT_WEEKS)
    closures = closures_for(date(year_start.year - history_count // 40_000 - 2, 1, 1),
                            current[-1] + timedelta(days=6))
    gen = Generator(rooms=room_caps, clients=clients, reserve=reserve, today=today, rng=rng,
                    closures=closures, absences=absent)
    lanes = []
    if upcoming:
        n = math.ceil(upcoming / CURRENT_WEEKS)
        while True:
            lanes = plan_lanes(n, clinicians, room_caps, rng)
            if gen.capacity(lanes, current) >= upcoming:
                break
            n = math.ceil(n * 1.02) + 1
    history_lanes, history_weeks, skip = [], [], 0
    if history_count:
        history_lanes = plan_lanes(FULL_LOAD_PER_CLINICIAN * clinicians, clinicians, room_caps,
                                   history_rng)
        have, monday = 0, year_start
        while have < history_count:
            monday -= timedelta(weeks=1)
            have += gen.capacity(history_lanes, [monday])
            history_weeks.insert(0, monday)
        skip = have - history_count
    step = _Steps(verbose)
    gen.rng = history_rng
    gen.fill(history_lanes, history_weeks, history_count, skip=skip)
    gen.rng = rng
    gen.reset_clients()  # history ends before the current year: everyone is free again
    gen.fill(lanes, current, upcoming)
    gen.course_rows()
    rows = gen.rows
    first_seen = history_weeks[0] if history_weeks else year_start
    closures = [c for c in closures if first_seen <= c[0]]

    # -- the database -------------------------------------------------------------------------
    step("planned")
    _reset(database_url)
    app = bench_app(database_url)
    with app.app_context():
        engine = db.engine
        pg = engine.dialect.name == "postgresql"
        if pg:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade()
        step("migrated")
        now = datetime.now(timezone.utc)
        small = {
            "practice_settings": [{"id": 1, "name": "Benchmark Practice"}],
            "sites": [{"id": s + 1, "name": f"Site {s + 1}", "address": None}
                      for s in range(max(site for site, _ in room_caps) + 1)],
            "rooms": [{"id": r + 1, "name": f"Room {r + 1}", "site_id": site + 1,
                       "capacity": cap, "active": True, "attributes": [], "updated_at": now}
                      for r, (site, cap) in enumerate(room_caps)],
            "clinicians": [{"id": c + 1, "name": f"Dr {LAST[c % len(LAST)]} {c + 1}",
                            "email": f"clinician{c + 1}@bench.practice", "active": True,
                            "updated_at": now} for c in range(clinicians)],
            "working_hours": [{"clinician_id": c + 1, "weekday": wd, "start_time": a,
                               "end_time": b} for c in range(clinicians) for wd in range(5)
                              for a, b in BLOCKS],
            "clinician_modalities": [{"clinician_id": c + 1, "modality": "general"}
                                     for c in range(clinicians)],
            "clients": [{"id": i + 1, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                         "date_of_birth": date(1950, 1, 1) + timedelta(days=rng.randrange(20000)),
                         "email": f"client{i + 1}@example.org", "phone": None,
                         "updated_at": now} for i in range(clients)],
            "closures": [{"date": d, "site_id": None if site is None else site + 1,
                          "reason": why} for d, site, why in closures],
            "absences": [{"clinician_id": c, "start_date": a, "end_date": b, "reason": why}
                         for c, a, b, why in absences],
        }
        with engine.begin() as conn:
            for name, values in small.items():
                conn.execute(db.metadata.tables[name].insert(), values)
        big = (("courses", rows.courses), ("course_clients", rows.course_clients),
               ("sessions", rows.sessions), ("session_participants", rows.participants))
        with _guards_rebuilt_after(engine, [name for name, _ in big], step):
            for name, values in big:
                _bulk(engine, name, values)
                step(f"copied {name}")
        users = _users()
        if pg:
            with engine.begin() as conn:
                for name in ("sites", "rooms", "clinicians", "clients", "courses", "sessions",
                             "session_participants", "practice_settings"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT max(id) FROM {name}))"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        step("analysed")
        db.session.remove()
        engine.dispose()
    return {
        "database_url": database_url, "zone": ZONE, "today": today,
        "this_monday": this_monday, "year_start": year_start,
        "year_end": year_start + timedelta(weeks=CURRENT_WEEKS),
        "bench_from": this_monday + timedelta(weeks=2),
        "clinician_ids": list(range(1, clinicians + 1)),
        "room_ids": list(range(1, rooms + 1)),
        "room_capacity": {r + 1: cap for r, (_, cap) in enumerate(room_caps)},
        "client_ids": list(range(1, clients + 1)),
        "free_client_ids": list(range(clients - reserve + 1, clients + 1)),
        "lanes": [(ln.clinician + 1, ln.weekday, ln.hour, ln.room + 1) for ln in lanes],
        "sessions": len(rows.sessions), "participants": len(rows.participants),
        "courses": len(rows.courses), "max_course_id": gen.course_id,
        "max_session_id": gen.session_id, **users,
    }


@contextmanager
def _guards_rebuilt_after(engine, tables: list[str], step):
    """PostgreSQL: drop the exclusion constraints and secondary indexes of
    ``tables`` while COPY runs, then rebuild them from their own catalog
    definitions: one bulk build (which still checks every seeded row for
    overlaps) instead of an index probe per row. SQLite: nothing to do."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.begin() as conn:
        names = ", ".join(f"'{t}'::regclass" for t in tables)
        constraints = conn.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            f"FROM pg_constraint WHERE contype IN ('x', 'f') AND conrelid IN ({names}) "
            "ORDER BY contype DESC")).all()
        indexes = conn.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            f"WHERE i.indrelid IN ({names}) AND NOT i.indisprimary AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )).all()
        for table, name, _ in constraints:
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
    yield

    def rebuild(table: str) -> None:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for name, ddl in indexes:
                if ddl.split(" ON ", 1)[1].split()[0].split(".")[-1] == table:
                    conn.execute(text(ddl))
            for owner, name, definition in constraints:
                if owner == table:
                    conn.execute(text(f"ALTER TABLE {owner} ADD CONSTRAINT {name} {definition}"))

    # One table per connection, two at a time: the sessions' and the
    # participants' guards are built side by side (each a minute at 600,000).
    first = ("sessions", "session_participants")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(rebuild, sorted(tables, key=lambda t: (t not in first, first.index(t)
                                                              if t in first else 0))))
    step("rebuilt indexes and overlap guards")


def _bulk(engine, table: str, rows: list[tuple]) -> None:
    """COPY on PostgreSQL; executemany through SQLAlchemy's types on SQLite."""
    if not rows:
        return
    cols = COLUMNS[table]
    if engine.dialect.name == "postgresql":
        as_json = [i for i, c in enumerate(cols) if c in JSON_COLUMNS]
        raw = engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cur:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        if as_json:
                            row = list(row)
                            for i in as_json:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    from practice.extensions import db

    # The columns' own bind processors (UTC text for instants, ISO dates...),
    # memoised: a year of sessions shares a few thousand distinct instants.
    table_obj = db.metadata.tables[table]
    procs = []
    for c in cols:
        proc = table_obj.c[c].type._cached_bind_processor(engine.dialect)
        cache: dict = {}

        def convert(v, proc=proc, cache=cache):
            if v is None or proc is None:
                return v
            key = (type(v), v) if not isinstance(v, (dict, list)) else None
            if key is None:
                return proc(v)
            got = cache.get(key)
            if got is None:
                got = cache[key] = proc(v)
            return got

        procs.append(convert)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany(sql, ([p(v) for p, v in zip(procs, row)] for row in rows))
        cur.execute("COMMIT")
    finally:
        raw.close()


def _users() -> dict:
    from practice.auth import issue_token
    from practice.extensions import db
    from practice.services.accounts import create_user

    admin = create_user("admin@bench.practice", "admin", PASSWORD)
    desk = create_user("frontdesk@bench.practice", "front_desk", PASSWORD)
    token, _ = issue_token(desk)
    admin_token, _ = issue_token(admin)
    db.session.commit()
    return {"admin_email": admin.email, "front_desk_email": desk.email, "password": PASSWORD,
            "token": token, "admin_token": admin_token}
