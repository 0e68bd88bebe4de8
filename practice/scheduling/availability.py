"""Availability search: weekly slots where a clinician and one room are free
for every one of the weeks needed.

Ranking (best first): earliest first date; then fewest weeks skipped for
closures or absences; then closeness of the start to the requested window
(to ``earliest`` when given, else earlier in the day); then clinician id,
smaller fitting room, room id.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .daymask import DAY_MINUTES, BusyIndex, run_cover, run_starts, span
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
    # A series must end before this date (the bookings loaded stop there):
    # one needing more weeks is not offered. None: no bound.
    horizon: date | None = None


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


def series_dates(first: date, weeks: int, interval: int, blocked,
                 horizon: date | None = None) -> tuple[list[date], int] | None:
    """The dates a booking would occupy (blocked dates skipped), and the
    weeks it skips between its first and last date (a booking starting on
    the first free date skips no earlier week, so neither does the slot);
    None when it is blocked too often or reaches ``horizon``."""
    dates: list[date] = []
    skipped = blocked_count = 0
    d = first
    step = timedelta(weeks=interval)
    while len(dates) < weeks:
        if horizon is not None and d >= horizon:
            return None
        if blocked(d):
            blocked_count += 1
            if blocked_count > MAX_SKIPS:
                return None
            if dates:
                skipped += 1
        else:
            dates.append(d)
        d += step
    return dates, skipped


def fitting_rooms_by_site(rooms: list[RoomInfo], min_capacity: int) -> dict[int, list[RoomInfo]]:
    """Rooms holding ``min_capacity``, smallest first, by site."""
    by_site: dict[int, list[RoomInfo]] = {}
    for r in sorted((r for r in rooms if r.capacity >= min_capacity),
                    key=lambda r: (r.capacity, r.id)):
        by_site.setdefault(r.site_id, []).append(r)
    return by_site


def series_plan(*, clinicians: list[ClinicianInfo], rooms: list[RoomInfo], closures: set[date],
                site_closures: dict[int, set[date]], params: SearchParams
                ) -> dict[tuple[int, int, int], tuple[list[date], int] | None]:
    """(clinician id, weekday, site id) -> the dates a series would occupy and
    the weeks it skips (None: too many skips, or it reaches the horizon), for
    every combination the search may look at: which days' bookings it needs
    to know is known before reading any."""
    p = params
    plan = {}
    no_closures: set[date] = set()
    for c in clinicians:
        # Sites without closures of their own share one answer.
        by_closed: dict[int, tuple[list[date], int] | None] = {}
        for site_id in fitting_rooms_by_site(rooms, p.min_capacity):
            closed = site_closures.get(site_id) or no_closures
            for wd in ([p.weekday] if p.weekday is not None else sorted(c.hours)):
                if not c.hours.get(wd):
                    continue
                key = (id(closed), wd)
                if key not in by_closed:
                    first = next_weekday_on_or_after(p.from_date, wd)
                    by_closed[key] = series_dates(
                        first, p.weeks, p.interval_weeks,
                        lambda d, c=c, closed=closed: d in closures or d in closed or c.absent(d),
                        p.horizon)
                plan[(c.id, wd, site_id)] = by_closed[key]
    return plan


def search(*, clinicians: list[ClinicianInfo], rooms: list[RoomInfo], busy: BusyIndex,
           closures: set[date], site_closures: dict[int, set[date]], params: SearchParams,
           zone: ZoneInfo, plan: dict | None = None,
           load: Callable[[set[date], int | None], None] | None = None) -> list[Slot]:
    """All qualifying slots, ranked; at most ``params.limit``.

    ``busy`` holds keys ``("c", clinician_id)`` and ``("r", room_id)``;
    ``plan`` is :func:`series_plan`'s answer, when the caller has it already.
    ``load(dates, minutes)``, when given, is called before bookings are
    looked at: ``load(dates, None)`` before the searched clinicians' on those
    local dates, ``load(dates, mask)`` before every room's at the minutes of
    the day in ``mask`` (``busy`` then only needs to hold what was asked for).

    Series are taken in order of the rank's first two fields (first date,
    weeks skipped), which the plan knows before any booking is read; once
    ``limit`` slots are found, a later series could only rank after them, so
    its bookings are never read. A one-clinician search usually stops after
    its first working days' weeks, and reads rooms' bookings only around
    the starts its clinician has free on every date.
    """
    p = params
    if plan is None:
        plan = series_plan(clinicians=clinicians, rooms=rooms, closures=closures,
                           site_closures=site_closures, params=p)
    by_site = fitting_rooms_by_site(rooms, p.min_capacity)
    window = span(p.earliest or 0, p.latest if p.latest is not None else DAY_MINUTES)
    target = p.earliest or 0
    # (first date, skipped) -> (clinician, weekday) -> [(site's rooms, dates)].
    by_rank: dict[tuple[date, int], dict[tuple[int, int], list]] = {}
    work: dict[tuple[int, int], int] = {}
    for c in clinicians:
        for wd in ([p.weekday] if p.weekday is not None else sorted(c.hours)):
            mask = 0
            for a, b in c.hours.get(wd) or []:
                mask |= span(a, b)
            mask &= window
            if not mask:
                continue
            work[(c.id, wd)] = mask
            for site_id, site_rooms in by_site.items():
                got = plan.get((c.id, wd, site_id))
                if got is not None:
                    dates, skipped = got
                    by_rank.setdefault((dates[0], skipped), {}).setdefault(
                        (c.id, wd), []).append((site_rooms, dates))
    # A room's busy minutes over a set of dates, shared by every clinician
    # whose series falls on the same dates (most of them).
    room_busy: dict[tuple[int, tuple], int] = {}
    gaps: dict[date, int] = {}
    # Starts already given a room, per (clinician, weekday): one room is
    # offered per clinician, weekday and start, from its best-ranked series.
    taken: dict[tuple[int, int], int] = {}
    candidates = []
    for (first, skipped), units in sorted(by_rank.items(), key=lambda g: g[0]):
        if len(candidates) >= p.limit:
            break
        days_needed = {d for sites in units.values() for _, dates in sites for d in dates}
        if load is not None:
            load(days_needed, None)
        # First the clinicians' free starts, then the rooms' bookings at only
        # the minutes those starts would occupy.
        unit_options = []
        need = 0
        for (cid, wd), sites in units.items():
            options = []
            done = taken.get((cid, wd), 0)
            for site_rooms, dates in sites:
                days = tuple(dates)
                # Starts that do not exist on one of the dates (a spring-forward
                # gap) are never offered.
                gap = 0
                for d in dates:
                    g = gaps.get(d)
                    if g is None:
                        g = gaps[d] = _gap_mask(d, zone)
                    gap |= g
                free_c = work[(cid, wd)] & ~busy.union(("c", cid), dates)
                starts_c = run_starts(free_c, p.duration) & GRID_MASK & ~gap
                if starts_c & ~done:
                    need |= starts_c & ~done
                    options += [(r, dates, days, free_c, starts_c) for r in site_rooms]
            if len(sites) > 1:
                options.sort(key=lambda o: (o[0].capacity, o[0].id))
            unit_options.append((cid, wd, options))
        if not need:
            continue
        if load is not None:
            load(days_needed, run_cover(need, p.duration))
        for cid, wd, options in unit_options:
            done = taken.get((cid, wd), 0)
            for r, dates, days, free_c, starts_c in options:
                if not starts_c & ~done:
                    continue
                rb = room_busy.get((r.id, days))
                if rb is None:
                    rb = room_busy[(r.id, days)] = busy.union(("r", r.id), dates)
                # Only minutes inside the runs of ``starts_c`` count here:
                # the room's bookings elsewhere may not have been read.
                starts = run_starts(free_c & ~rb, p.duration) & starts_c & ~done
                done |= starts
                while starts:
                    low = starts & -starts
                    s = low.bit_length() - 1
                    starts ^= low
                    candidates.append((first, skipped, abs(s - target), cid, s,
                                       r.capacity, r.id, wd, dates))
            taken[(cid, wd)] = done
    # The rank is the first seven fields; they never tie (the first date
    # tells weekdays apart), so a plain sort orders by them alone.
    candidates.sort()
    return [Slot(cid, rid, wd, s, p.duration, dates, skipped)
            for first, skipped, _, cid, s, _, rid, wd, dates in candidates[:p.limit]]


def _gap_mask(day: date, zone: ZoneInfo) -> int:
    """Grid starts on ``day`` that do not exist locally (none on most days)."""
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    if midnight.utcoffset() == datetime.combine(day, time(23, 59), tzinfo=zone).utcoffset():
        return 0
    mask = 0
    for m in range(0, DAY_MINUTES, GRID):
        if not exists_locally(day, from_minutes(m), zone):
            mask |= 1 << m
    return mask


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
