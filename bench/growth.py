"""How booking and availability grow with the size of the database (SPEC
section 10): the same questions at 6,000 and at 600,000 sessions, on
PostgreSQL.

Both practices share the same current year (``upcoming`` = the smaller
size, so the seed lays out exactly the same courses, clients and free lanes
around today); the bigger one adds about ten years of history before it. The
work each request does is the same, so any slow-down is the table's size:
an index that does not bound a scan, a query reading history it does not
need. The target: at most 1.2 times slower (p95) at the bigger size.

Both databases are seeded and served side by side, and the requests
alternate between them, so a busy spell of a shared machine slows both
sides alike instead of whichever happened to be measured then.
"""
from __future__ import annotations

import time

from . import availability_bench, booking_bench
from .harness import Context, Result, log, percentile, result

TARGET_RATIO = 1.2
WARMUP = 3


def alternate(calls: dict[int, object], n: int) -> dict[int, list[float]]:
    """Time ``calls[size](i)`` for every size in turn, n rounds after a warm-up;
    the side that goes first changes every round."""
    sizes = list(calls)
    out: dict[int, list[float]] = {s: [] for s in sizes}
    for i in range(WARMUP + n):
        for size in (sizes if i % 2 else sizes[::-1]):
            t = time.perf_counter()
            calls[size](i)
            if i >= WARMUP:
                out[size].append((time.perf_counter() - t) * 1000)
    return out


def run(ctx: Context) -> list[Result]:
    db = "postgresql" if "postgresql" in ctx.opts.dbs else ctx.opts.dbs[0]
    if db != "postgresql":
        log("growth: PostgreSQL is not in this run; measuring on SQLite instead")
    small, large = ctx.opts.growth_sizes
    n = ctx.opts.iterations
    ids = {size: ctx.practice(db, sessions=size, upcoming=small, name=f"growth{size}")
           for size in (small, large)}
    samples: dict[str, dict[int, tuple[list, list]]] = {}
    with ctx.server(ids[small]) as base_small, ctx.server(ids[large]) as base_large:
        base = {small: base_small, large: base_large}
        log(f"growth: {n} bookings and searches, alternating {small:,} and {large:,} "
            f"sessions on {db} ...")
        benches = {size: booking_bench.Bench(ids[size], base[size]) for size in ids}
        try:
            http = alternate({s: b.http for s, b in benches.items()}, n)
            raw = alternate({s: b.raw for s, b in benches.items()}, n)
            samples[booking_bench.NAME] = {s: (http[s], raw[s]) for s in ids}
        finally:
            for size, b in benches.items():
                b.close()
                booking_bench.remove_bench_courses(ids[size]["database_url"],
                                                   ids[size]["max_course_id"])
        for kind in ("clinician", "modality"):
            benches = {s: availability_bench.Bench(kind, ids[s], base[s]) for s in ids}
            try:
                http = alternate({s: b.http for s, b in benches.items()}, n)
                raw = alternate({s: b.raw for s, b in benches.items()}, n)
            finally:
                for b in benches.values():
                    b.close()
            samples[availability_bench.NAMES[kind]] = {s: (http[s], raw[s]) for s in ids}
    results = []
    for name, at in samples.items():
        (h1, r1), (h2, r2) = at[small], at[large]
        results.append(result(f"{name} [growth]", db, ids[small]["sessions"], h1, r1, None))
        results.append(result(f"{name} [growth]", db, ids[large]["sessions"], h2, r2, None))
        results.append(Result(f"{name}: slow-down {small:,} -> {large:,}", db, large, n,
                              ratio(h1, h2, 50), ratio(h1, h2, 95), ratio(r1, r2, 50),
                              ratio(r1, r2, 95), TARGET_RATIO, unit="x"))
    return results


def ratio(a: list[float], b: list[float], q: float) -> float:
    return percentile(b, q) / percentile(a, q)
