"""``python -m bench [NAME ...] [--quick] [--db sqlite|postgresql|both] ...``

Runs the named benchmarks (default: all of them, in the order below) and
prints one table of p50/p95 beside each raw-SQL baseline and target.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import shutil
import sys

from .harness import DEFAULT_PG, Context, Options, log, table

# name -> module (in run order); a module exposes run(ctx) -> list[Result].
BENCHMARKS = {
    "booking": "bench.booking_bench",
    "availability": "bench.availability_bench",
    "slot_grid": "bench.slot_grid_bench",
    "feeds": "bench.feeds_bench",
    "calendar": "bench.calendar_bench",
    "growth": "bench.growth",
}


def available() -> list[str]:
    return [n for n, mod in BENCHMARKS.items() if importlib.util.find_spec(mod) is not None]


def pg_reachable(url: str) -> bool:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql", database="postgres")
    try:
        psycopg.connect(u.render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def parse(argv: list[str]) -> tuple[list[str], Options]:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[2])
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of "
                    f"{', '.join(available())})")
    ap.add_argument("--quick", action="store_true",
                    help="a small practice and few iterations: a smoke run (under a minute)")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--pg-url", default=DEFAULT_PG,
                    help="a PostgreSQL database of the benchmark's own: dropped and re-created")
    ap.add_argument("--sessions", type=int, help="sessions seeded (default 60,000)")
    ap.add_argument("--iterations", type=int, help="measured requests per figure (default 200)")
    ap.add_argument("--sizes", help="growth sizes, e.g. 6000,600000")
    ap.add_argument("--verbose", action="store_true", help="time each seeding step")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (SQLite file, server logs) for a look")
    a = ap.parse_args(argv)
    unknown = [n for n in a.names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    dbs = ("sqlite", "postgresql") if a.db == "both" else (a.db,)
    sizes = tuple(int(s) for s in a.sizes.split(",")) if a.sizes else None
    opts = Options.make(a.quick, dbs=dbs, pg_url=a.pg_url, sessions=a.sessions,
                        iterations=a.iterations, growth_sizes=sizes, verbose=a.verbose,
                        keep=a.keep)
    return a.names or available(), opts


def main(argv: list[str] | None = None) -> int:
    names, opts = parse(sys.argv[1:] if argv is None else argv)
    if "postgresql" in opts.dbs and not pg_reachable(opts.pg_url):
        log(f"PostgreSQL is not reachable at {opts.pg_url}: running on SQLite only")
        opts.dbs = tuple(d for d in opts.dbs if d != "postgresql")
    ctx = Context(opts)
    results = []
    try:
        for name in names:
            module = importlib.import_module(BENCHMARKS[name])
            results += module.run(ctx)
    finally:
        if opts.keep:
            log(f"work directory kept: {opts.workdir}")
        else:
            shutil.rmtree(opts.workdir, ignore_errors=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
