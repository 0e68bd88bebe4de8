"""A clinician's iCalendar feed on the practice-scale data (SPEC section 10).

The clinician whose feed window (30 days back, 12 months ahead) holds the
number of sessions closest to 1,200 is measured four ways:

- **cold build**, in-process: both caches emptied before each build, so
  every query runs and every event is written (``build_feed``). Beside it,
  the issue's baseline, measured in the same run on the same events: the
  icalendar library alone building and serialising them (no database);
- **unchanged feed**, over HTTP: ``GET`` the same link again (200 + body);
- **304**, over HTTP: ``GET`` with ``If-None-Match``;
- **one session changed**, over HTTP: a session's SEQUENCE and
  ``updated_at`` are bumped (outside the timing), then ``GET``.

HTTP goes to the harness's real gunicorn on 127.0.0.1 (one gthread worker,
keep-alive) with ``requests``. The HTTP figures' baseline is the raw SQL of
the same request's reads through the bare driver: the token lookup and an
aggregate over the feed's window.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from practice.feeds.query import LONGEST_SESSION

from .harness import Context, Result, api_session, log, percentile, result, timed

TARGET_EVENTS = 1200
TARGET_MS = {"unchanged": 20.0, "not_modified": 10.0}


def _window(app):
    from practice.feeds import query
    from practice.feeds.ical import zone
    from practice.feeds.render import practice_today

    return query.feed_window(practice_today(app), zone(app.config["PRACTICE_TIMEZONE"]))


def pick_clinician(app) -> tuple[int, int]:
    """(clinician id, sessions in the feed window) closest to TARGET_EVENTS."""
    from practice.extensions import db
    from practice.models import TherapySession as S

    w = _window(app)
    counts = db.session.execute(
        select(S.clinician_id, func.count()).where(S.starts_at < w.end, S.ends_at > w.start)
        .group_by(S.clinician_id)).all()
    return min(counts, key=lambda row: (abs(row[1] - TARGET_EVENTS), row[0]))


def _aware(value) -> datetime:
    """A stored UTC instant (SQLite text or a datetime) as an aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value


def icalendar_alone(app, owner) -> tuple[callable, int]:
    """The baseline: the same events built and serialised with icalendar's
    own components (rows fetched beforehand, outside the timing)."""
    from icalendar import Calendar, Event

    from practice.extensions import db
    from practice.feeds import query
    from practice.feeds.events import core_texts

    w = _window(app)
    sessions = query.feed_sessions(db.session, owner, w, names=True)
    zones = {tz: ZoneInfo(tz) for tz in {item.row.timezone for item in sessions}}
    data = []
    for item in sessions:
        r = item.row
        cancelled = r.status.startswith("cancelled")
        summary, _ = core_texts(privacy="initials", owner_kind="clinician", names=item.names,
                                group=item.group, label=r.label, clinician_name="",
                                cancelled=cancelled)
        data.append((r, summary, cancelled, zones[r.timezone], _aware(r.created_at),
                     _aware(r.updated_at)))

    def build() -> bytes:
        cal = Calendar()
        cal.add("prodid", "-//Practice//baseline//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", "baseline")
        for r, summary, cancelled, tz, created, updated in data:
            ev = Event()
            ev.add("uid", r.uid)
            ev.add("sequence", r.sequence)
            ev.add("dtstamp", updated)
            ev.add("created", created)
            ev.add("last-modified", updated)
            ev.add("dtstart", r.starts_at.astimezone(tz))
            ev.add("dtend", r.ends_at.astimezone(tz))
            ev.add("summary", summary)
            ev.add("location", r.room_name)
            ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
            ev.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
            ev.add("class", "PRIVATE")
            cal.add_component(ev)
        cal.add_missing_timezones()
        return cal.to_ical()

    return build, len(sessions)


class RawReads:
    """The reads of one feed request through the bare driver."""

    def __init__(self, database_url: str, token: str, clinician_id: int, start, end):
        url = make_url(database_url)
        self.pg = url.get_backend_name() == "postgresql"
        if self.pg:
            import psycopg

            # No server-side prepared statements: PostgreSQL's generic plan
            # for them is several times slower here (the app avoids it too).
            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(
                hide_password=False), autocommit=True, prepare_threshold=None)
            p = "%s"
            self.window = (start, end, start - LONGEST_SESSION)
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.database, isolation_level=None)
            p = "?"
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            self.window = (start.strftime(fmt), end.strftime(fmt),
                           (start - LONGEST_SESSION).strftime(fmt))
        self.token_hash = hashlib.sha256(token.encode()).hexdigest()
        self.clinician_id = clinician_id
        self.sql_token = (f"SELECT id, clinician_id, room_id, privacy FROM feed_tokens "
                          f"WHERE token_hash = {p} AND revoked_at IS NULL")
        # The same reads as the feed's fingerprint (practice.feeds.query).
        self.sql_window = (
            "WITH w AS (SELECT id, course_id, updated_at, sequence FROM sessions "
            f"WHERE clinician_id = {p} AND starts_at < {p} AND starts_at > {p} "
            f"AND ends_at > {p}), wc AS (SELECT DISTINCT course_id FROM w) "
            "SELECT * FROM (SELECT count(*), max(updated_at), sum(sequence), sum(id) FROM w) a, "
            "(SELECT max(c.updated_at), count(cc.client_id), sum(cc.client_id), "
            "max(cl.updated_at) FROM wc JOIN courses c ON c.id = wc.course_id "
            "LEFT JOIN course_clients cc ON cc.course_id = wc.course_id "
            "LEFT JOIN clients cl ON cl.id = cc.client_id) b, "
            "(SELECT max(updated_at) FROM rooms) r, "
            f"(SELECT updated_at FROM clinicians WHERE id = {p}) o")
        self.sql_rows = (
            "SELECT s.id, s.uid, s.sequence, s.starts_at, s.ends_at, s.status, s.created_at, "
            "s.updated_at, c.updated_at, c.modality, c.label, c.timezone, c.planned_sessions, "
            "r.name, cl.name FROM sessions s "
            "JOIN courses c ON c.id = s.course_id JOIN rooms r ON r.id = s.room_id "
            "LEFT JOIN course_clients cc ON cc.course_id = s.course_id "
            f"LEFT JOIN clients cl ON cl.id = cc.client_id WHERE s.clinician_id = {p} "
            f"AND s.starts_at < {p} AND s.starts_at > {p} AND s.ends_at > {p} "
            "ORDER BY s.starts_at, s.id, cc.client_id")

    def request_reads(self, _=None) -> None:
        cur = self.conn.cursor()
        cur.execute(self.sql_token, (self.token_hash,))
        cur.fetchall()
        cur.execute(self.sql_window, (self.clinician_id, self.window[1], self.window[2],
                                      self.window[0], self.clinician_id))
        cur.fetchall()

    def row_load(self, _=None) -> None:
        cur = self.conn.cursor()
        cur.execute(self.sql_rows, (self.clinician_id, self.window[1], self.window[2],
                                    self.window[0]))
        cur.fetchall()

    def close(self) -> None:
        self.conn.close()


def measure_cold(app, token: str, n: int) -> tuple[list[float], list[float], int, int]:
    """(cold build samples, icalendar-alone samples, events, body bytes)."""
    from practice.extensions import db
    from practice.feeds import query
    from practice.feeds.render import build_feed, feed_state
    from practice.services.feeds import find_live_feed

    with app.app_context():
        row = find_live_feed(token)
        owner = query.Owner("clinician", row.clinician_id)
        state = feed_state(app)

        def cold(_):
            state.feeds.clear()
            state.events.clear()
            build_feed(app, row)

        cold_ms = timed(cold, n)
        size = len(build_feed(app, row).body)
        baseline, events = icalendar_alone(app, owner)
        base_ms = timed(lambda _: baseline(), n)
        db.session.rollback()
    return cold_ms, base_ms, events, size


def run(ctx: Context) -> list[Result]:
    from bench.seed import bench_app

    results = []
    n = ctx.opts.iterations
    for db_name in ctx.opts.dbs:
        ids = ctx.practice(db_name)
        app = bench_app(ids["database_url"], str(ctx.opts.workdir / f"feeds-{db_name}"))
        with app.app_context():
            clinician, events = pick_clinician(app)
            window = _window(app)
        with ctx.server(ids) as base:
            admin = api_session(ids["admin_token"])
            made = admin.post(f"{base}/api/clinicians/{clinician}/feed", json={})
            if made.status_code != 201:
                raise RuntimeError(f"feed link: {made.status_code} {made.text[:300]}")
            url = made.json()["url"]
            token = url.rsplit("/", 1)[1].removesuffix(".ics")
            log(f"feeds: clinician {clinician}, {events} sessions in the window, on {db_name}")
            cold_ms, base_ms, events, size = measure_cold(app, token, n)
            http = requests.Session()
            first = http.get(url)
            etag = first.headers["ETag"]
            assert first.status_code == 200 and first.content.count(b"BEGIN:VEVENT") == events

            def unchanged(_):
                r = http.get(url)
                assert r.status_code == 200 and len(r.content) == size

            def revalidate(_):
                r = http.get(url, headers={"If-None-Match": etag})
                assert r.status_code == 304

            warm_ms = timed(unchanged, n)
            not_modified_ms = timed(revalidate, n)
            changed_ms = _changed(app, http, url, clinician, window, n)
            raw = RawReads(ids["database_url"], token, clinician, window.start, window.end)
            try:
                raw_reads = timed(raw.request_reads, n)
                raw_rows = timed(raw.row_load, n)
            finally:
                raw.close()
            http.close()
            admin.close()
        label = f"clinician feed, {events} events"
        note = (f"body {size / 1024:.0f} KiB; raw SQL loading the same rows: p50 "
                f"{percentile(raw_rows, 50):.1f} ms, p95 {percentile(raw_rows, 95):.1f} ms")
        results += [
            result(f"{label}: cold build (vs icalendar alone)", db_name, ids["sessions"],
                   cold_ms, base_ms, percentile(base_ms, 95), note=note),
            result(f"{label}: unchanged, 200 (HTTP)", db_name, ids["sessions"], warm_ms,
                   raw_reads, TARGET_MS["unchanged"]),
            result(f"{label}: 304 revalidation (HTTP)", db_name, ids["sessions"],
                   not_modified_ms, raw_reads, TARGET_MS["not_modified"]),
            result(f"{label}: one session changed (HTTP)", db_name, ids["sessions"], changed_ms,
                   raw_rows, None),
        ]
    return results


def _changed(app, http: requests.Session, url: str, clinician: int, window, n: int) -> list[float]:
    """Bump one session (outside the timing), then time the fetch."""
    from practice.extensions import db
    from practice.models import TherapySession as S

    with app.app_context():
        ids = db.session.scalars(select(S.id).where(
            S.clinician_id == clinician, S.starts_at < window.end, S.ends_at > window.start)
            .order_by(S.starts_at)).all()
        samples = []
        for i in range(n + 3):
            db.session.execute(update(S).where(S.id == ids[i % len(ids)]).values(
                sequence=S.sequence + 1, updated_at=datetime.now(timezone.utc)))
            db.session.commit()
            t = time.perf_counter()
            r = http.get(url)
            elapsed = (time.perf_counter() - t) * 1000
            assert r.status_code == 200
            if i >= 3:
                samples.append(elapsed)
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    return samples
