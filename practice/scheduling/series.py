"""Series expansion: N weekly (or every k weeks) occurrences at a local time.

An occurrence that falls on a closure or an absence is skipped and the series
grows at its end, so the course still gets its N sessions; the skipped dates
are reported with their reasons.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import bounds
from .timeutil import local_instant

# How far past the planned end a series may grow to make up skipped weeks.
MAX_EXTRA_OCCURRENCES = 104


@dataclass
class Occurrence:
    number: int
    day: date
    start: time
    starts_at: datetime
    ends_at: datetime
    room_id: int
    overridden: bool = False

    def as_dict(self) -> dict:
        return {"number": self.number, "date": self.day.isoformat(),
                "start_time": self.start.strftime("%H:%M"), "starts_at": self.starts_at,
                "ends_at": self.ends_at, "room_id": self.room_id}


@dataclass
class Expansion:
    occurrences: list[Occurrence] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


class SeriesTooLong(ValueError):
    pass


def candidate_dates(first: date, interval_weeks: int):
    """first, first + k weeks, first + 2k weeks, ... (wall-clock dates)."""
    step = timedelta(weeks=interval_weeks)
    d = first
    while True:
        yield d
        if d > bounds.LAST_DAY:
            return  # the caller refuses this one; the next could overflow
        d += step


def expand_series(*, first_date: date, start: time, duration_minutes: int, count: int,
                  interval_weeks: int, zone: ZoneInfo, room_id: int,
                  blocked: Callable[[date, int], str | None], first_number: int = 1,
                  overrides: dict[int, dict] | None = None) -> Expansion:
    """Expand a series; ``blocked(day, room_id)`` gives a skip reason or None.

    ``overrides`` maps a session number to ``{"room_id", "start_time", "date"}``
    (any subset). Raises NonexistentLocalTime for a time in a DST gap, and
    bounds.OutOfRange for a session that would fall outside the scheduling
    range (checked before any arithmetic on the date could overflow).
    """
    out = Expansion()
    overrides = overrides or {}
    number = first_number
    length = timedelta(minutes=duration_minutes)
    for i, day in enumerate(candidate_dates(first_date, interval_weeks)):
        if len(out.occurrences) == count:
            break
        if i >= count + MAX_EXTRA_OCCURRENCES:
            raise SeriesTooLong(
                f"only {len(out.occurrences)} of {count} sessions fit before "
                f"{day.isoformat()}: too many closures or absences")
        bounds.check(day, f"Session {number}")
        ov = overrides.get(number, {})
        the_day = bounds.check(ov.get("date") or day, f"Session {number}")
        the_room = ov.get("room_id") or room_id
        reason = blocked(the_day, the_room)
        if reason is not None:
            if ov:  # an explicit override onto a blocked day is the caller's choice
                reason = None
            else:
                out.skipped.append({"date": day.isoformat(), "reason": reason})
                continue
        the_start = ov.get("start_time") or start
        starts_at = local_instant(the_day, the_start, zone)
        out.occurrences.append(Occurrence(
            number=number, day=the_day, start=the_start, starts_at=starts_at,
            ends_at=starts_at + length, room_id=the_room, overridden=bool(ov)))
        number += 1
    return out
