"""How booking and availability grow with the size of the database (SPEC
section 10): the same questions at 6,000 and at 600,000 sessions, on
PostgreSQL.

Both practices share the same current year (``upcoming`` = the smaller
size, so the seed lays out exactly the same courses, clients and free lanes
around today); the bigger one adds about ten years of history before it. The
work each request does is the same, so any slow-down is the table's size:
an index that does not bound a scan, a query reading history it does not
need. The target: at most 1.2 times slower (p95) at the bigger size.
"""
from __future__ import annotations

from . import availability_bench, booking_bench
from .harness import Context, Result, log, percentile, result

TARGET_RATIO = 1.2


def measure_size(ctx: Context, db: str, size: int, upcoming: int, n: int) -> dict[str, tuple]:
    """name -> (HTTP samples, raw SQL samples) at one size."""
    ids = ctx.practice(db, sessions=size, upcoming=upcoming)
    out = {}
    with ctx.server(ids) as base:
        log(f"growth: {n} bookings and searches at {ids['sessions']:,} sessions on {db} ...")
        try:
            out[booking_bench.NAME] = booking_bench.measure(ctx, db, ids, n, base)
        finally:
            booking_bench.remove_bench_courses(ids["database_url"], ids["max_course_id"])
        for kind in ("clinician", "modality"):
            out[availability_bench.NAMES[kind]] = availability_bench.measure(kind, ids, n, base)
    return out


def ratio(a: list[float], b: list[float], q: float) -> float:
    return percentile(b, q) / percentile(a, q)


def run(ctx: Context) -> list[Result]:
    db = "postgresql" if "postgresql" in ctx.opts.dbs else ctx.opts.dbs[0]
    if db != "postgresql":
        log("growth: PostgreSQL is not in this run; measuring on SQLite instead")
    small, large = ctx.opts.growth_sizes
    n = ctx.opts.iterations
    at = {size: measure_size(ctx, db, size, small, n) for size in (small, large)}
    results = []
    for name in at[small]:
        (h1, r1), (h2, r2) = at[small][name], at[large][name]
        results.append(result(f"{name} [growth]", db, small, h1, r1, None))
        results.append(result(f"{name} [growth]", db, large, h2, r2, None))
        results.append(Result(f"{name}: slow-down {small:,} -> {large:,}", db, large, n,
                              ratio(h1, h2, 50), ratio(h1, h2, 95), ratio(r1, r2, 50),
                              ratio(r1, r2, 95), TARGET_RATIO, unit="x"))
    return results
