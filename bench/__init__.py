"""Benchmarks (SPEC section 10): ``python -m bench`` (or ``make bench``).

- :mod:`bench.seed` seeds a practice-scale database (40 clinicians, 30 rooms,
  3,000 clients, about 60,000 sessions a year) with bulk inserts;
- :mod:`bench.harness` holds the run's context (options, seeded databases,
  a real gunicorn), timing and the printed table;
- each ``*_bench`` module (and :mod:`bench.growth`) exposes
  ``run(ctx) -> list[Result]``; ``python -m bench NAME`` runs one of them.
"""
