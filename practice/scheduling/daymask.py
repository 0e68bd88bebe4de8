"""Minute bitmasks of a local day: bit m set means minute m (0..1439) is busy.

Python integers make "is this span free on every one of 16 dates?" a couple
of OR and AND operations instead of thousands of interval comparisons.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_MINUTES = 1440
FULL_DAY = (1 << DAY_MINUTES) - 1


def span(start_min: int, end_min: int) -> int:
    """Bits [start_min, end_min) within one day."""
    start_min = max(0, start_min)
    end_min = min(DAY_MINUTES, end_min)
    if end_min <= start_min:
        return 0
    return ((1 << (end_min - start_min)) - 1) << start_min


class BusyIndex:
    """Busy minutes per (key, local date), built from UTC intervals."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.masks: dict[tuple, int] = defaultdict(int)
        self._offsets: dict[date, tuple] = {}

    def add(self, key, starts_at: datetime, ends_at: datetime) -> None:
        a = starts_at.astimezone(self.zone)
        b = ends_at.astimezone(self.zone)
        day = a.date()
        start_min = a.hour * 60 + a.minute
        while True:
            if b.date() == day:
                end_min = b.hour * 60 + b.minute + (1 if b.second or b.microsecond else 0)
                self.masks[(key, day)] |= span(start_min, end_min)
                return
            self.masks[(key, day)] |= span(start_min, DAY_MINUTES)
            day += timedelta(days=1)
            start_min = 0

    def get(self, key, day: date) -> int:
        return self.masks.get((key, day), 0)

    def union(self, key, days) -> int:
        m = 0
        masks = self.masks
        for d in days:
            m |= masks.get((key, d), 0)
        return m


def run_starts(free: int, length: int) -> int:
    """Bits s such that minutes [s, s+length) are all set in ``free``."""
    result = free
    have = 1
    # Doubling: after each step ``result`` marks starts of runs of ``have`` minutes.
    while have < length:
        step = min(have, length - have)
        result &= result >> step
        have += step
    return result


def set_bits(mask: int, grid: int = 15, lo: int = 0, hi: int = DAY_MINUTES):
    """Minutes m in [lo, hi) on the grid whose bit is set, ascending."""
    start = ((lo + grid - 1) // grid) * grid
    for m in range(start, hi, grid):
        if mask >> m & 1:
            yield m
