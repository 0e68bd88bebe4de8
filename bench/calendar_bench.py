"""The calendar on the practice-scale data (SPEC section 10, issue 8).

Three figures, each beside its target:

- **the week's events**, over HTTP: ``GET /api/sessions`` for this week
  (Monday to Sunday) for all 40 clinicians, as the calendar asks it: with
  the signed-in browser session (cookie), not a bearer token;
- **the calendar page's HTML**, over HTTP: ``GET /calendar`` for the same
  week by clinician (200 columns), and the front desk's landing page, today
  by clinician (40 columns). Grids this wide offer their list of sessions
  on request (``/calendar/list``, measured too, for the week);
- **first event drawn**, in headless Chromium (Debian's, through Playwright):
  from navigation start to the first ``.ec-event`` in the document and the
  next frame after it (``requestAnimationFrame``), both by the page's own
  ``performance.now()``, on the week view; beside it, when the whole week is
  drawn (the page draws the day it opens on first, then the rest: the mark
  ``calendar:all-events``). Each navigation opens a new tab in one signed-in
  browser context, so static files come from its HTTP cache after the first,
  as they would for a front desk.

HTTP goes to the harness's real gunicorn (one gthread worker, keep-alive).
The HTTP figures' baseline is the raw SQL of the same request's reads through
the bare driver: the range's sessions with their clients, and the courses'
other sessions that "session k of N" counts; for the page, its small lists
(sites, clinicians, rooms, working hours); for the list, both.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from .harness import Context, Result, log, percentile, result, signed_in, timed
from .plan import ZONE

TARGET_MS = {"events": 40.0, "page": 20.0, "first_event": 1000.0}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
# Set before any page script runs: when the first event enters the document,
# and the frame after it.
FIRST_EVENT_PROBE = """
(() => {
  const seen = () => {
    if (window.__firstEvent !== undefined || !document.querySelector('.ec-event')) return;
    window.__firstEvent = performance.now();
    requestAnimationFrame(() => { window.__firstEventFrame = performance.now(); });
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true});
})();
"""


class RawReads:
    """The reads of the events request (and the page's) through the bare driver."""

    CANCELLED = "('cancelled_by_client', 'cancelled_by_practice')"

    def __init__(self, database_url: str, start: datetime, end: datetime):
        url = make_url(database_url)
        self.pg = url.get_backend_name() == "postgresql"
        earliest = start - timedelta(days=1)
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(
                hide_password=False), autocommit=True, prepare_threshold=None)
            self.p = "%s"
            self.window = (end, earliest, start)
            self.end = end
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.database, isolation_level=None)
            self.p = "?"
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            self.window = tuple(t.strftime(fmt) for t in (end, earliest, start))
            self.end = end.strftime(fmt)
        p = self.p
        self.sql_sessions = (
            "SELECT s.id, s.course_id, s.number, s.starts_at, s.ends_at, s.room_id, r.site_id, "
            "s.clinician_id, s.status, c.modality, c.planned_sessions, cl.id, cl.name "
            "FROM sessions s JOIN courses c ON c.id = s.course_id "
            "JOIN rooms r ON r.id = s.room_id "
            "LEFT OUTER JOIN session_participants p ON p.session_id = s.id "
            f"AND (p.active OR s.status IN {self.CANCELLED}) "
            "LEFT OUTER JOIN clients cl ON cl.id = p.client_id "
            f"WHERE s.starts_at < {p} AND s.starts_at > {p} AND s.ends_at > {p} "
            "ORDER BY s.starts_at, s.id, p.client_id")
        self.sql_directory = (
            "SELECT id, name FROM sites ORDER BY name",
            "SELECT id, name, active FROM clinicians ORDER BY name",
            "SELECT id, name, site_id, capacity, active FROM rooms ORDER BY site_id, name",
            "SELECT weekday, min(start_time), max(end_time) FROM working_hours GROUP BY weekday")

    def events(self, _=None) -> int:
        cur = self.conn.cursor()
        cur.execute(self.sql_sessions, self.window)
        rows = cur.fetchall()
        course_ids = sorted({r[1] for r in rows})
        if course_ids:
            marks = ", ".join([self.p] * len(course_ids))
            cur.execute("SELECT id, course_id, status, number, makes_up, starts_at FROM sessions "
                        f"WHERE course_id IN ({marks}) AND (starts_at < {self.p} "
                        "OR makes_up IS NOT NULL)", (*course_ids, self.end))
            cur.fetchall()
        return len({r[0] for r in rows})

    def directory(self, _=None) -> None:
        """The page's own reads: sites, clinicians, rooms, working hours."""
        cur = self.conn.cursor()
        for sql in self.sql_directory:
            cur.execute(sql)
            cur.fetchall()

    def page(self, _=None) -> None:
        """The list's reads: the page's and the events'."""
        self.directory()
        self.events()

    def close(self) -> None:
        self.conn.close()


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ZONE)).astimezone(
        timezone.utc)


def measure_http(base: str, ids: dict, n: int) -> dict[str, list[float]]:
    http = signed_in(base, ids["front_desk_email"], ids["password"])
    monday, today = ids["this_monday"], ids["today"]
    events_url = (f"{base}/api/sessions?from={monday.isoformat()}"
                  f"&to={(monday + timedelta(days=6)).isoformat()}")
    week_url = f"{base}/calendar?view=week&by=clinician&date={monday.isoformat()}"
    day_url = f"{base}/calendar?view=day&by=clinician&date={today.isoformat()}"
    list_url = f"{base}/calendar/list?view=week&by=clinician&date={monday.isoformat()}"
    first = http.get(events_url)
    assert first.status_code == 200, first.text[:300]
    count = first.json()["total"]

    def get(url, check):
        def call(_):
            r = http.get(url)
            assert r.status_code == 200 and check(r), (r.status_code, r.text[:300])
        return call

    out = {"count": count,
           "events": timed(get(events_url, lambda r: r.json()["total"] == count), n),
           "page_week": timed(get(week_url, lambda r: b"calendar-data" in r.content), n),
           "page_day": timed(get(day_url, lambda r: b"calendar-data" in r.content), n),
           "list": timed(get(list_url, lambda r: b"session-table" in r.content),
                         max(5, n // 4))}
    out["page_bytes"] = len(http.get(week_url).content)
    http.close()
    return out


def measure_browser(base: str, ids: dict, n: int) -> tuple[list, list, list]:
    """(first event in the document, the frame after it, the whole week
    drawn), ms from navigation start."""
    from playwright.sync_api import sync_playwright

    monday = ids["this_monday"]
    url = f"{base}/calendar?view=week&by=clinician&date={monday.isoformat()}"
    in_dom, drawn, everything = [], [], []
    all_drawn = "performance.getEntriesByName('calendar:all-events')"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          locale="en-GB", timezone_id=ZONE)
            context.add_init_script(FIRST_EVENT_PROBE)
            page = context.new_page()
            page.goto(f"{base}/sign-in")
            page.fill("#email", ids["front_desk_email"])
            page.fill("#password", ids["password"])
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.close()
            for i in range(n + 2):  # two warm-ups: the static files reach the cache
                page = context.new_page()
                page.goto(url)
                page.wait_for_function(f"window.__firstEventFrame !== undefined && "
                                       f"{all_drawn}.length > 0", timeout=60_000)
                t = page.evaluate(f"[window.__firstEvent, window.__firstEventFrame, "
                                  f"{all_drawn}[0].startTime]")
                if i >= 2:
                    in_dom.append(t[0])
                    drawn.append(t[1])
                    everything.append(t[2])
                page.close()
        finally:
            browser.close()
    return in_dom, drawn, everything


def run(ctx: Context) -> list[Result]:
    results = []
    n = ctx.opts.iterations
    n_browser = max(5, min(n, 40))
    for db_name in ctx.opts.dbs:
        ids = ctx.practice(db_name)
        monday = ids["this_monday"]
        raw = RawReads(ids["database_url"], _utc_midnight(monday),
                       _utc_midnight(monday + timedelta(days=7)))
        with ctx.server(ids) as base:
            log(f"calendar: events and page HTML, {n} requests each, on {db_name} ...")
            http = measure_http(base, ids, n)
            in_dom = drawn = everything = None
            if Path(CHROMIUM).exists():
                log(f"calendar: first event drawn, {n_browser} navigations in Chromium ...")
                t0 = time.perf_counter()
                in_dom, drawn, everything = measure_browser(base, ids, n_browser)
                log(f"  {time.perf_counter() - t0:.0f} s")
            else:
                log(f"calendar: no Chromium at {CHROMIUM} (apt-get install chromium): "
                    "the browser figures are left out")
        try:
            raw_events = timed(raw.events, n)
            raw_directory = timed(raw.directory, n)
            raw_page = timed(raw.page, n)
        finally:
            raw.close()
        week = f"{http['count']:,} events"
        results += [
            result(f"calendar: the week's events, 40 clinicians, {week} (HTTP)", db_name,
                   ids["sessions"], http["events"], raw_events, TARGET_MS["events"]),
            result("calendar: page HTML, week by clinician (HTTP)", db_name,
                   ids["sessions"], http["page_week"], raw_directory, TARGET_MS["page"],
                   note=f"{http['page_bytes'] / 1024:.0f} KiB; its list on request"),
            result("calendar: page HTML, today by clinician (HTTP)", db_name,
                   ids["sessions"], http["page_day"], None, TARGET_MS["page"]),
            result(f"calendar: the week's list, {week} (HTTP)", db_name, ids["sessions"],
                   http["list"], raw_page, None),
        ]
        if drawn:
            results += [
                result(f"calendar: first event drawn, week view, {week} (Chromium)", db_name,
                       ids["sessions"], drawn, None, TARGET_MS["first_event"],
                       note=f"first event in the document: p50 {percentile(in_dom, 50):.0f} "
                            f"ms, p95 {percentile(in_dom, 95):.0f} ms; the figure is the frame "
                            "after it"),
                result(f"calendar: whole week drawn, {week} (Chromium)", db_name,
                       ids["sessions"], everything, None, None),
            ]
    return results
