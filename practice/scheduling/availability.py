"""Availability search: weekly slots where a clinician and one room are free
for every one of the weeks needed.

Ranking (best first): earliest first date; then fewest weeks skipped for
closures or absences; then closeness of the start to the requested window
(to ``earliest`` when given, else earlier in the day); then clinician id,
smaller fitting room, room id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from .daymask import DAY_MINUTES, BusyIndex, run_starts, span
from .timeutil import exists_locally, from_minutes, next_weekday_on_or_after

GRID = 15
GRID_MASK = sum(1 << m for m in range(0, DAY_MINUTES, GRID))
MAX_SKIPS = 104


@dataclass
class ClinicianInfo:
    id: int
    hours: dict[int, list[tuple[int, int]]]  # weekday -> [(start_min, end_min)]
    absences: list[tuple[date, date]] = field(default_factory=list)

    def absent(self, day: date) -> bool:
        return any(a <= day <= b for a, b in self.absences)


@dataclass
class RoomInfo:
    id: int
    site_id: int
    capacity: int


@dataclass
class SearchParams:
    weeks: int
    duration: int
    from_date: date
    weekday: int | None = None
    earliest: int | None = None  # minutes after midnight: slot starts no earlier
    latest: int | None = None    # minutes after midnight: slot ends no later
    min_capacity: int = 1
    interval_weeks: int = 1
    limit: int = 20


@dataclass
class Slot:
    clinician_id: int
    room_id: int
    weekday: int
    start: int
    duration: int
    dates: list[date]
    skipped: int

    def as_dict(self) -> dict:
        return {
            "clinician_id": self.clinician_id, "room_id": self.room_id,
            "weekday": self.weekday,
            "start_time": from_minutes(self.start).strftime("%H:%M"),
            "end_time": from_minutes(self.start + self.duration).strftime("%H:%M"),
            "first_date": self.dates[0].isoformat(),
            "dates": [d.isoformat() for d in self.dates],
            "skipped_weeks": self.skipped,
        }


def series_dates(first: date, weeks: int, interval: int, blocked) -> tuple[list[date], int] | None:
    """The dates a booking would occupy (blocked dates skipped), and skips."""
    dates: list[date] = []
    skipped = 0
    d = first
    step = timedelta(weeks=interval)
    while len(dates) < weeks:
        if blocked(d):
            skipped += 1
            if skipped > MAX_SKIPS:
                return None
        else:
            dates.append(d)
        d += step
    return dates, skipped


def search(*, clinicians: list[ClinicianInfo], rooms: list[RoomInfo], busy: BusyIndex,
           closures: set[date], site_closures: dict[int, set[date]], params: SearchParams,
           zone: ZoneInfo) -> list[Slot]:
    """All qualifying slots, ranked; at most ``params.limit``.

    ``busy`` holds keys ``("c", clinician_id)`` and ``("r", room_id)``.
    """
    p = params
    fitting = sorted((r for r in rooms if r.capacity >= p.min_capacity),
                     key=lambda r: (r.capacity, r.id))
    by_site: dict[int, list[RoomInfo]] = {}
    for r in fitting:
        by_site.setdefault(r.site_id, []).append(r)
    window = span(p.earliest or 0, p.latest if p.latest is not None else DAY_MINUTES)
    target = p.earliest or 0
    best: dict[tuple[int, int, int], tuple] = {}
    for c in clinicians:
        weekdays = [p.weekday] if p.weekday is not None else sorted(c.hours)
        for wd in weekdays:
            blocks = c.hours.get(wd) or []
            work = 0
            for a, b in blocks:
                work |= span(a, b)
            work &= window
            if not work:
                continue
            first = next_weekday_on_or_after(p.from_date, wd)
            for site_id, site_rooms in by_site.items():
                closed = site_closures.get(site_id, set())
                got = series_dates(first, p.weeks, p.interval_weeks,
                                   lambda d: d in closures or d in closed or c.absent(d))
                if got is None:
                    continue
                dates, skipped = got
                free_c = work & ~busy.union(("c", c.id), dates)
                starts_c = run_starts(free_c, p.duration) & GRID_MASK
                if not starts_c:
                    continue
                assigned = 0
                for r in site_rooms:
                    starts = run_starts(free_c & ~busy.union(("r", r.id), dates),
                                        p.duration) & GRID_MASK & ~assigned
                    assigned |= starts
                    while starts:
                        low = starts & -starts
                        s = low.bit_length() - 1
                        starts ^= low
                        key = (c.id, wd, s)
                        rank = (dates[0], skipped, abs(s - target), c.id, s, r.capacity, r.id)
                        if key not in best or rank < best[key][0]:
                            best[key] = (rank, Slot(c.id, r.id, wd, s, p.duration, dates,
                                                    skipped))
                    if assigned == starts_c:
                        break
    ranked = sorted(best.values(), key=lambda item: item[0])
    out: list[Slot] = []
    for _, slot in ranked:
        t = from_minutes(slot.start)
        if all(exists_locally(d, t, zone) for d in slot.dates):
            out.append(slot)
            if len(out) >= p.limit:
                break
    return out


def nearest_free_starts(*, requested: int, duration: int, work: int, busy_masks: list[int],
                        count: int = 3) -> list[int]:
    """Grid starts on one day nearest ``requested`` where every mask is free."""
    free = work
    for m in busy_masks:
        free &= ~m
    starts = run_starts(free, duration) & GRID_MASK
    found = []
    while starts:
        low = starts & -starts
        found.append(low.bit_length() - 1)
        starts ^= low
    found.sort(key=lambda s: (abs(s - requested), s))
    return [s for s in found if s != requested][:count]


def as_time(m: int) -> time:
    return from_minutes(m)
