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


_EPOCH = date(1970, 1, 1)
_CHANGES = object()  # the offset changes within this stretch of time


def _utc_offset(zone: ZoneInfo, epoch_s: int) -> int:
    return int(datetime.fromtimestamp(epoch_s, zone).utcoffset().total_seconds())


class BusyIndex:
    """Busy minutes per (key, local date), built from UTC intervals."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.masks: dict[tuple, int] = defaultdict(int)
        self._offsets: dict[tuple[int, int], object] = {}
        self._dates: dict[int, date] = {}

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

    def add_sessions(self, rows, clinicians: set[int]) -> None:
        """Many ``(clinician_id, room_id, starts_s, ends_s)`` rows, each a UTC
        interval in whole epoch seconds (the start rounded down, the end up):
        key ``("c", clinician_id)`` for the given clinicians and
        ``("r", room_id)`` for every row.

        The availability search reads thousands of rows: integer arithmetic,
        with the zone's offset looked up once per UTC day (per hour, or per
        row, around a change of offset), replaces two zone conversions a row.
        """
        masks, dates = self.masks, self._dates
        seg_lo = seg_hi = off = 0
        for cid, rid, s, e in rows:
            if not seg_lo <= s < seg_hi:
                off, seg_lo, seg_hi = self._segment(s)
            end_off = off if seg_lo <= e < seg_hi else self._segment(e)[0]
            # A partial minute at the end is busy.
            day, a = divmod((s + off) // 60, DAY_MINUTES)
            end_day, b = divmod(-(-(e + end_off) // 60), DAY_MINUTES)
            d = dates.get(day)
            if day != end_day or d is None:  # across midnight, or a new day
                keys = (("c", cid), ("r", rid)) if cid in clinicians else (("r", rid),)
                self._add_minutes(keys, day * DAY_MINUTES + a, end_day * DAY_MINUTES + b)
                continue
            if b > a:
                bits = ((1 << (b - a)) - 1) << a
                masks[(("r", rid), d)] |= bits
                if cid in clinicians:
                    masks[(("c", cid), d)] |= bits

    def _add_minutes(self, keys, start: int, end: int) -> None:
        """Local wall-clock minutes [start, end), counted from 1970-01-01 00:00."""
        day, start_min = divmod(start, DAY_MINUTES)
        end_day, end_min = divmod(end, DAY_MINUTES)
        masks, dates = self.masks, self._dates
        while day < end_day or end_min > start_min:
            d = dates.get(day)
            if d is None:
                d = dates[day] = _EPOCH + timedelta(days=day)
            bits = span(start_min, DAY_MINUTES if day < end_day else end_min)
            for k in keys:
                masks[(k, d)] |= bits
            if day == end_day:
                return
            day += 1
            start_min = 0

    def _segment(self, epoch_s: int) -> tuple[int, int, int]:
        """(offset in seconds, first second, end second) of a stretch of UTC
        time around ``epoch_s`` with one offset: its UTC day, else its hour,
        else that second alone (a change of offset inside that hour)."""
        for length in (86400, 3600):
            lo = epoch_s - epoch_s % length
            first = self._offsets.get((lo, length))
            if first is None:
                first = _utc_offset(self.zone, lo)
                if first != _utc_offset(self.zone, lo + length - 1):
                    first = _CHANGES
                self._offsets[(lo, length)] = first
            if first is not _CHANGES:
                return first, lo, lo + length
        return _utc_offset(self.zone, epoch_s), epoch_s, epoch_s + 1

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


def run_cover(starts: int, length: int) -> int:
    """Minutes covered by runs [s, s+length) for every bit s of ``starts``."""
    covered = starts
    have = 1
    while have < length:
        step = min(have, length - have)
        covered |= covered << step
        have += step
    return covered & FULL_DAY


def bit_runs(mask: int):
    """(start, end) of each run of set bits, ascending."""
    while mask:
        a = (mask & -mask).bit_length() - 1
        x = mask >> a
        n = ((~x) & (x + 1)).bit_length() - 1  # trailing ones of x
        yield a, a + n
        mask &= ~(((1 << n) - 1) << a)


def set_bits(mask: int, grid: int = 15, lo: int = 0, hi: int = DAY_MINUTES):
    """Minutes m in [lo, hi) on the grid whose bit is set, ascending."""
    start = ((lo + grid - 1) // grid) * grid
    for m in range(start, hi, grid):
        if mask >> m & 1:
            yield m
