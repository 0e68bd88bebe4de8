"""What every benchmark shares: the run's context (options, seeded databases,
a real server), timing, results and the printed table.

A benchmark module exposes ``run(ctx: Context) -> list[Result]``; the
figures it returns are printed in one table at the end of ``python -m bench``.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/practice_bench"


@dataclass
class Options:
    quick: bool = False
    dbs: tuple[str, ...] = ("sqlite", "postgresql")
    pg_url: str = DEFAULT_PG  # a database of its own: it is dropped and re-created
    sessions: int = 60_000
    growth_sizes: tuple[int, int] = (6_000, 600_000)
    iterations: int = 200
    verbose: bool = False
    keep: bool = False
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="practice-bench-")))

    @classmethod
    def make(cls, quick: bool, **kw) -> Options:
        kw = {k: v for k, v in kw.items() if v is not None}
        if quick:
            kw.setdefault("sessions", 6_000)
            kw.setdefault("growth_sizes", (1_000, 10_000))
            kw.setdefault("iterations", 15)
        return cls(quick=quick, **kw)


@dataclass
class Result:
    """p50/p95 of one measurement (ms), beside its raw-SQL baseline."""

    name: str
    db: str
    sessions: int
    n: int
    p50: float
    p95: float
    base_p50: float | None = None
    base_p95: float | None = None
    target: float | None = None  # p95 must be at most this (ms), or a ratio for growth
    unit: str = "ms"
    note: str = ""

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.p95 <= self.target


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def timed(fn, n: int, warmup: int = 3) -> list[float]:
    """Call ``fn(i)`` warmup + n times; the last n durations in ms."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(warmup, warmup + n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def result(name: str, db: str, sessions: int, samples: list[float], base: list[float] | None,
           target: float | None, note: str = "") -> Result:
    return Result(name, db, sessions, len(samples), percentile(samples, 50),
                  percentile(samples, 95), percentile(base, 50) if base else None,
                  percentile(base, 95) if base else None, target, note=note)


# -- databases -------------------------------------------------------------------------------
def pg_recreate(url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database (never another)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')


class Context:
    """One run: options, and the seeded database of each engine (one at a time)."""

    def __init__(self, opts: Options):
        self.opts = opts
        self._seeded: dict[tuple[str, str], tuple[tuple, dict]] = {}

    def url(self, db: str, name: str = "main") -> str:
        """The database of ``db`` ("sqlite" or "postgresql") called ``name``:
        the main one, or another seeded beside it (growth keeps two)."""
        if db == "sqlite":
            suffix = "" if name == "main" else f"-{name}"
            return f"sqlite:///{self.opts.workdir / f'bench{suffix}.sqlite3'}"
        if name == "main":
            return self.opts.pg_url
        from sqlalchemy.engine import make_url

        u = make_url(self.opts.pg_url)
        return u.set(database=f"{u.database}_{name}").render_as_string(hide_password=False)

    def practice(self, db: str, sessions: int | None = None, upcoming: int | None = None,
                 name: str = "main") -> dict:
        """The ids of a practice seeded in ``db`` with ``sessions`` (re-seeded
        only when the size asked for changes)."""
        from .seed import seed

        sessions = sessions or self.opts.sessions
        key = (sessions, upcoming)
        have = self._seeded.get((db, name))
        if have and have[0] == key:
            return have[1]
        url = self.url(db, name)
        if db == "postgresql":
            pg_recreate(url)
        log(f"seeding {sessions:,} sessions on {db} ...")
        t = time.perf_counter()
        ids = seed(url, sessions=sessions, upcoming=upcoming, verbose=self.opts.verbose)
        log(f"  seeded {ids['sessions']:,} sessions, {ids['participants']:,} participants "
            f"in {time.perf_counter() - t:.0f} s")
        self._seeded[(db, name)] = (key, ids)
        return ids

    @contextmanager
    def server(self, ids: dict):
        """A real gunicorn (1 worker, keep-alive) on 127.0.0.1 and a free port."""
        with running_server(ids["database_url"], self.opts.workdir) as base:
            yield base


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(database_url: str, workdir: Path):
    from .plan import ZONE

    port = free_port()
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "PRACTICE_TIMEZONE": ZONE,
              "PRACTICE_PLUGINS": "", "INSTANCE_PATH": str(workdir / "instance")}
    log_file = workdir / f"gunicorn-{port}.log"
    # gthread keeps connections alive (the sync worker closes each one).
    cmd = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
           "--threads", "2", "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log_file),
           "--chdir", str(REPO), f"practice:create_app({config!r})"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PRACTICE_PLUGINS")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/api/openapi.json", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log_file}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api_session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- output ----------------------------------------------------------------------------------
def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def table(results: list[Result]) -> str:
    head = ("benchmark", "db", "sessions", "n", "p50", "p95", "raw SQL p50", "raw SQL p95",
            "target p95", "met")
    rows = [head]
    for r in results:
        unit = "x" if r.unit == "x" else " ms"
        rows.append((r.name, r.db, f"{r.sessions:,}", str(r.n), _fmt(r.p50) + unit,
                     _fmt(r.p95) + unit,
                     _fmt(r.base_p50) + (unit if r.base_p50 is not None else ""),
                     _fmt(r.base_p95) + (unit if r.base_p95 is not None else ""),
                     ("<= " + _fmt(r.target) + unit) if r.target is not None else "-",
                     {None: "", True: "yes", False: "NO"}[r.ok]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.name} ({r.db}): {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))


def signed_in(base: str, email: str, password: str) -> requests.Session:
    """A browser-like session: the sign-in form with its CSRF token."""
    http = requests.Session()
    form = http.get(f"{base}/sign-in")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("the sign-in form has no CSRF token")
    r = http.post(f"{base}/sign-in", data={"email": email, "password": password,
                                          "csrf_token": token.group(1)},
                  allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"sign-in: {r.status_code} {r.text[:300]}")
    return http
