"""Availability search over HTTP, beside the raw SQL that loads the same data.

Two questions, each asked of a real gunicorn (one worker, keep-alive):
- one clinician, 16 weekly 50-minute sessions from two weeks ahead
  (``GET /api/availability?clinician_id=...``, the clinician changing
  each request);
- a modality across all 40 clinicians (``?modality=general``).

The baseline runs, through the bare database driver, the queries that fetch
what the search needs to know: the clinicians and their working hours,
absences, active rooms, closures, and the live sessions the engine must read
at the least: for one clinician, their own over the window and every room's
on the days of the best-ranked series (whole days: the engine reads only the
minutes around the clinician's free starts, and further days when those
series hold fewer than ``limit`` slots); for a modality, every session on
those days. The data load without the search or the HTTP around it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from practice.scheduling.availability import (ClinicianInfo, RoomInfo, SearchParams,
                                               series_plan)

from .harness import Context, Result, api_session, log, result, timed
from .plan import SESSION_MINUTES

WEEKS = 16
SLACK_WEEKS = 12  # as practice.services.availability.SLACK_WEEKS
TARGET_MS = {"clinician": 100.0, "modality": 500.0}
NAMES = {"clinician": "availability, one clinician, 16 weeks",
         "modality": "availability, modality, all clinicians"}


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _minutes(value) -> int:
    text = str(value)  # a time (psycopg) or "HH:MM:SS.ffffff" (sqlite3)
    return int(text[:2]) * 60 + int(text[3:5])


def params(kind: str, ids: dict, i: int) -> dict:
    q = {"weeks": WEEKS, "duration_minutes": SESSION_MINUTES,
         "from": ids["bench_from"].isoformat()}
    if kind == "clinician":
        q["clinician_id"] = ids["clinician_ids"][i % len(ids["clinician_ids"])]
    else:
        q["modality"] = "general"
    return q


class RawLoader:
    """The search's data load through the bare driver (sqlite3 / psycopg)."""

    def __init__(self, database_url: str, zone: str):
        url = make_url(database_url)
        self.pg = url.get_backend_name() == "postgresql"
        self.zone = ZoneInfo(zone)
        self.days: dict[tuple, tuple[list[date], date]] = {}
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(
                hide_password=False), autocommit=True)
            self.p = "%s"
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.database, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self.p = "?"

    def _ts(self, dt: datetime):
        return dt if self.pg else dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

    def load(self, kind: str, q: dict) -> int:
        p = self.p
        start = datetime.strptime(q["from"], "%Y-%m-%d").date()
        end = start + timedelta(weeks=WEEKS + SLACK_WEEKS)
        d = (lambda x: x) if self.pg else (lambda x: x.isoformat())
        cur = self.conn.cursor()
        if kind == "clinician":
            cur.execute(f"SELECT id FROM clinicians WHERE id = {p} AND active",
                        (q["clinician_id"],))
        else:
            cur.execute("SELECT c.id FROM clinicians c JOIN clinician_modalities m "
                        f"ON m.clinician_id = c.id WHERE c.active AND m.modality = {p}",
                        (q["modality"],))
        ids = [r[0] for r in cur.fetchall()]
        marks = ", ".join([p] * len(ids))
        cur.execute(f"SELECT clinician_id, weekday, start_time, end_time FROM working_hours "
                    f"WHERE clinician_id IN ({marks})", ids)
        hours: dict = {}
        for cid, wd, a, b in cur.fetchall():
            hours.setdefault(cid, {}).setdefault(wd, []).append((_minutes(a), _minutes(b)))
        cur.execute(f"SELECT clinician_id, start_date, end_date FROM absences WHERE clinician_id "
                    f"IN ({marks}) AND end_date >= {p} AND start_date <= {p}",
                    [*ids, d(start), d(end)])
        absences: dict = {}
        for cid, a, b in cur.fetchall():
            absences.setdefault(cid, []).append((_day(a), _day(b)))
        cur.execute("SELECT id, site_id, capacity FROM rooms WHERE active")
        rooms = [RoomInfo(*r) for r in cur.fetchall()]
        cur.execute(f"SELECT date, site_id FROM closures WHERE date >= {p} AND date <= {p}",
                    (d(start), d(end)))
        closures, site_closures = set(), {}
        for day, site in cur.fetchall():
            (closures.add(_day(day)) if site is None
             else site_closures.setdefault(site, set()).add(_day(day)))
        # The days of the best-ranked series (worked out once per question:
        # that is search, not loading).
        key = (kind, q.get("clinician_id"), q["from"])
        if key not in self.days:
            self.days[key] = self._days(ids, hours, absences, rooms, closures, site_closures,
                                        start, end)
        days, stop = self.days[key]
        dead = "status NOT IN ('cancelled_by_client', 'cancelled_by_practice')"
        n = 0
        if kind == "clinician":
            cur.execute("SELECT clinician_id, room_id, starts_at, ends_at FROM sessions "
                        f"WHERE clinician_id = {p} AND starts_at >= {p} AND starts_at < {p} "
                        f"AND {dead}", (ids[0], self._ts(self._midnight(start)),
                                        self._ts(self._midnight(stop))))
            n += len(cur.fetchall())
        for i in range(0, len(days), 12):
            ranges = [(self._midnight(d) - timedelta(minutes=SESSION_MINUTES + 1),
                       self._midnight(d + timedelta(days=1)), self._midnight(d))
                      for d in days[i:i + 12]]
            cur.execute("SELECT clinician_id, room_id, starts_at, ends_at FROM sessions WHERE ("
                        + " OR ".join([f"(starts_at >= {p} AND starts_at < {p} AND ends_at > {p})"]
                                      * len(ranges)) + f") AND {dead}",
                        [self._ts(x) for r in ranges for x in r])
            n += len(cur.fetchall())
        return n

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)

    @staticmethod
    def _days(ids, hours, absences, rooms, closures, site_closures, start, end
              ) -> tuple[list[date], date]:
        """The days of the best-ranked series, and the day after the last
        day any series reaches."""
        plan = series_plan(
            clinicians=[ClinicianInfo(c, hours.get(c, {}), absences.get(c, [])) for c in ids],
            rooms=rooms, closures=closures, site_closures=site_closures,
            params=SearchParams(weeks=WEEKS, duration=SESSION_MINUTES, from_date=start,
                                horizon=end))
        got = [g for g in plan.values() if g]
        last = max((g[0][-1] for g in got), default=start)
        best = min(((g[0][0], g[1]) for g in got), default=None)
        days = sorted({d for g in got if (g[0][0], g[1]) == best for d in g[0]})
        return days, min(end, last + timedelta(days=1))

    def close(self) -> None:
        self.conn.close()


class Bench:
    """The two measured calls, HTTP and raw SQL, for one kind of search."""

    def __init__(self, kind: str, ids: dict, base_url: str):
        self.kind, self.ids, self.base_url = kind, ids, base_url
        self.api = api_session(ids["token"])
        self.loader = RawLoader(ids["database_url"], ids["zone"])

    def http(self, i: int) -> None:
        r = self.api.get(self.base_url + "/api/availability",
                         params=params(self.kind, self.ids, i))
        if r.status_code != 200 or not r.json()["slots"]:
            raise RuntimeError(f"availability answered {r.status_code}: {r.text[:300]}")

    def raw(self, i: int) -> None:
        self.loader.load(self.kind, params(self.kind, self.ids, i))

    def close(self) -> None:
        self.loader.close()
        self.api.close()


def measure(kind: str, ids: dict, n: int, base_url: str) -> tuple[list[float], list[float]]:
    """(HTTP samples, raw SQL samples) in ms."""
    bench = Bench(kind, ids, base_url)
    try:
        return timed(bench.http, n), timed(bench.raw, n)
    finally:
        bench.close()


def run(ctx: Context) -> list[Result]:
    results = []
    for db in ctx.opts.dbs:
        ids = ctx.practice(db)
        with ctx.server(ids) as base:
            for kind in ("clinician", "modality"):
                n = ctx.opts.iterations if kind == "clinician" else max(10, ctx.opts.iterations // 2)
                log(f"availability ({kind}): {n} searches on {db} ...")
                http_ms, raw_ms = measure(kind, ids, n, base)
                results.append(result(NAMES[kind], db, ids["sessions"], http_ms, raw_ms,
                                      TARGET_MS[kind]))
    return results
