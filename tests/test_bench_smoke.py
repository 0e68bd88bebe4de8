"""The benchmarks cannot rot: the seed builds the practice it claims, and the
quick run (``python -m bench --quick``) goes end to end on SQLite.

No timing thresholds here: the figures depend on the machine; what is
checked is that every benchmark ran (each booking answered 201, each search
200 with slots, or the run fails) and printed its figures.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # bench/ is not an installed package

from bench.seed import seed  # noqa: E402

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 26)

OVERLAPS = {
    "clinician": "SELECT count(*) FROM sessions a JOIN sessions b ON a.clinician_id = "
                 "b.clinician_id AND a.id < b.id AND a.starts_at < b.ends_at AND "
                 "b.starts_at < a.ends_at WHERE {live}",
    "room": "SELECT count(*) FROM sessions a JOIN sessions b ON a.room_id = b.room_id AND "
            "a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at WHERE {live}",
    "client": "SELECT count(*) FROM session_participants a JOIN session_participants b ON "
              "a.client_id = b.client_id AND a.id < b.id AND a.starts_at < b.ends_at AND "
              "b.starts_at < a.ends_at WHERE a.active AND b.active",
}
LIVE = ("a.status NOT IN ('cancelled_by_client', 'cancelled_by_practice') AND "
        "b.status NOT IN ('cancelled_by_client', 'cancelled_by_practice')")


def current_year(url: str, since: date) -> list[tuple]:
    """The sessions of the current year, by what they are (not their ids)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.clinician_id, s.room_id, s.starts_at, s.status, p.client_id "
            "FROM sessions s JOIN session_participants p ON p.session_id = s.id "
            "WHERE s.starts_at >= :since ORDER BY 1, 3, 5"), {"since": since.isoformat()}).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_seed_builds_the_practice_it_claims(tmp_path):
    small = f"sqlite:///{tmp_path / 'small.sqlite3'}"
    big = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    ids = seed(small, sessions=2_000, today=TODAY)
    grown = seed(big, sessions=5_000, upcoming=2_000, today=TODAY)

    assert ids["sessions"] == 2_000 and grown["sessions"] == 5_000
    engine = create_engine(big)
    with engine.connect() as conn:
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in ("clinicians", "rooms", "clients", "sessions")}
        assert counts == {"clinicians": 40, "rooms": 30, "clients": 3000, "sessions": 5000}
        for kind, sql in OVERLAPS.items():
            assert conn.scalar(text(sql.format(live=LIVE))) == 0, f"{kind} double-booked"
        # History lies before the current year; the reserved clients have no sessions.
        first = conn.scalar(text("SELECT min(starts_at) FROM sessions"))
        assert first < grown["year_start"].isoformat()
        assert conn.scalar(text("SELECT count(*) FROM session_participants WHERE client_id "
                                ">= :c"), {"c": grown["free_client_ids"][0]}) == 0
    engine.dispose()
    # Growing adds history only: the current year is the same practice.
    assert current_year(small, ids["year_start"]) == current_year(big, grown["year_start"])
    assert ids["lanes"] == grown["lanes"]
    assert ids["bench_from"] == TODAY - timedelta(days=TODAY.weekday()) + timedelta(weeks=2)


def test_quick_benchmark_runs_end_to_end():
    run = subprocess.run([sys.executable, "-m", "bench", "--quick", "--db", "sqlite",
                          "booking", "availability", "growth"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    lines = run.stdout.splitlines()
    assert lines[0].split()[:2] == ["benchmark", "db"]
    rows = [line for line in lines[2:] if line.strip()]
    for name in ("book a 16-session series (HTTP)", "availability, one clinician, 16 weeks",
                 "availability, modality, all clinicians"):
        measured = [r for r in rows if r.startswith(name)]
        # Once at the practice's size, twice for growth, and the slow-down.
        assert len(measured) == 4, (name, run.stdout)
        assert all(" ms " in r or r.rstrip().endswith("x") or "x " in r for r in measured)
        assert any("slow-down 1,000 -> 10,000" in r for r in measured)
