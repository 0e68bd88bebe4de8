"""The slot finder's grid: one clinician, 16 weekly 50-minute sessions from
two weeks ahead, on the benchmark practice (the clinician changing each time).

Two figures:

- **the grid** (:func:`practice.services.slot_grid.slot_grid`, in the
  process, as the booking page calls it): every weekday the clinician works
  by every half hour of their hours, each cell counting the weeks the
  clinician and one room are free; target p95 <= 150 ms;
- **the booking page with it** over HTTP (``GET /book?...&find=1`` with a
  signed-in browser session against the harness's real gunicorn): the grid,
  the ranked slots beside it (the availability search, run on the bookings
  the grid has read) and the page's HTML, which is what a person waits for
  after "Find slots".

The baseline is the raw SQL of the same work: each clinician's grid's own
SELECTs (the clinician, working hours, absences, rooms, closures, the
clinician's live sessions over the window, then every room's at the minutes
around the starts the clinician has free each date), recorded once as the
driver received them and replayed through the bare driver, without
SQLAlchemy and without the Python that folds the rows into the grid.
"""
from __future__ import annotations

import time
from datetime import datetime


from .availability_bench import RawLoader
from .harness import Context, Result, log, percentile, result, signed_in, timed
from .plan import SESSION_MINUTES

WEEKS = 16
TARGET_MS = 150.0
NAME = "slot grid, one clinician, 16 weeks"


def args(ids: dict, i: int) -> dict:
    cids = ids["clinician_ids"]
    return {"clinician_id": cids[i % len(cids)], "weeks": WEEKS,
            "duration_minutes": SESSION_MINUTES, "date_from": ids["bench_from"]}


class RawGrid(RawLoader):
    """The grid's own SQL, replayed through the bare driver (sqlite3 / psycopg)."""

    def replay(self, statements: list[tuple[str, object]]) -> int:
        cur, n = self.conn.cursor(), 0
        for sql, params in statements:
            cur.execute(sql, params)
            n += len(cur.fetchall())
        return n


def recorded(app, ids: dict) -> dict[int, list[tuple[str, object]]]:
    """Each clinician's grid's SELECTs as the driver received them (the
    statement text and its parameters), to replay as the baseline."""
    from sqlalchemy import event

    from practice.extensions import db
    from practice.services.slot_grid import slot_grid

    out: dict[int, list] = {}
    seen: list = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            for i, cid in enumerate(ids["clinician_ids"]):
                seen.clear()
                slot_grid(args(ids, i))
                db.session.rollback()
                out[cid] = list(seen)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
    return out


def measure_service(ctx: Context, db_name: str, ids: dict, n: int) -> tuple[list, list, dict]:
    """(grid samples, raw SQL samples, the last grid's cell counts) in ms."""
    from bench.seed import bench_app
    from practice.extensions import db
    from practice.services.slot_grid import slot_grid

    app = bench_app(ids["database_url"], str(ctx.opts.workdir / f"slot-grid-{db_name}"))
    seen: dict = {"cpu": []}
    with app.app_context():
        def grid(i):
            cpu = time.process_time()
            g = slot_grid(args(ids, i))
            db.session.rollback()
            seen["cpu"].append((time.process_time() - cpu) * 1000)
            seen.update(cells=len(g.cells), all=g.count("all"), skips=g.count("skips"),
                        none=g.count("none"))

        samples = timed(grid, n)
        seen["cpu"] = seen["cpu"][-n:]
        db.engine.dispose()
    statements = recorded(app, ids)
    raw = RawGrid(ids["database_url"], ids["zone"])
    try:
        base = timed(lambda i: raw.replay(statements[args(ids, i)["clinician_id"]]), n)
    finally:
        raw.close()
    return samples, base, seen


def measure_http(base: str, ids: dict, n: int) -> list[float]:
    http = signed_in(base, ids["front_desk_email"], ids["password"])

    def page(i):
        a = args(ids, i)
        r = http.get(f"{base}/book", params={
            "clinician": a["clinician_id"], "session_count": WEEKS,
            "duration_minutes": SESSION_MINUTES, "from": a["date_from"].isoformat(),
            "find": 1})
        if r.status_code != 200 or b'id="slot-grid"' not in r.content:
            raise RuntimeError(f"the booking page answered {r.status_code}: {r.text[:300]}")

    try:
        return timed(page, n)
    finally:
        http.close()


def run(ctx: Context) -> list[Result]:
    results = []
    n = ctx.opts.iterations
    for db_name in ctx.opts.dbs:
        ids = ctx.practice(db_name)
        log(f"slot grid: {n} grids in the process, then the raw SQL, on {db_name} ...")
        t = datetime.now()
        grid_ms, raw_ms, seen = measure_service(ctx, db_name, ids, n)
        log(f"  {(datetime.now() - t).total_seconds():.0f} s")
        with ctx.server(ids) as base:
            log(f"slot grid: {n} booking pages over HTTP on {db_name} ...")
            page_ms = measure_http(base, ids, n)
        # CPU time of this process, which a busy machine inflates less than
        # the wall clock (on SQLite it includes the database's own work).
        cpu = seen["cpu"]
        note = (f"{seen['cells']} cells (last grid: {seen['all']} all free, "
                f"{seen['skips']} with skips, {seen['none']} not possible); this process's "
                f"CPU p50 {percentile(cpu, 50):.0f} ms, p95 {percentile(cpu, 95):.0f} ms")
        results += [
            result(f"{NAME} (service)", db_name, ids["sessions"], grid_ms, raw_ms,
                   TARGET_MS, note=note),
            result("booking page: grid, ranked slots and HTML (HTTP)", db_name,
                   ids["sessions"], page_ms, None, TARGET_MS,
                   note="the grid, its ranked slots (the availability search on the "
                        "grid's reads) and the page's HTML, as after 'Find slots'"),
        ]
    return results
