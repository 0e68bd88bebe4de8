"""Wall-clock times in an IANA zone, made into UTC instants with care.

A local time in the spring-forward gap does not exist (refused); one in the
fall-back overlap is ambiguous and takes its first occurrence (fold 0).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


class NonexistentLocalTime(ValueError):
    """The local time falls in a daylight-saving gap."""

    def __init__(self, day: date, at: time, zone: str):
        super().__init__(f"{day.isoformat()} {at.strftime('%H:%M')} does not exist in {zone} "
                         "(the clocks go forward then)")
        self.day, self.at, self.zone = day, at, zone


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone`` (fold 0)."""
    local = datetime.combine(day, at, tzinfo=zone).replace(fold=0)
    utc = local.astimezone(UTC)
    back = utc.astimezone(zone)
    if (back.date(), back.time().replace(tzinfo=None)) != (day, at):
        raise NonexistentLocalTime(day, at, zone.key)
    return utc


def exists_locally(day: date, at: time, zone: ZoneInfo) -> bool:
    try:
        local_instant(day, at, zone)
    except NonexistentLocalTime:
        return False
    return True


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def from_minutes(m: int) -> time:
    return time(m // 60, m % 60)


def next_weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)
