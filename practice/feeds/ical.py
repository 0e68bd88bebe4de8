"""iCalendar text (RFC 5545): content lines, escaping, folding, time values
and VTIMEZONE components.

The icalendar library writes the VTIMEZONE components (from zoneinfo's
transitions, found here); the events themselves are written as plain content lines here,
because building 1,200 ``icalendar.Event`` objects per feed costs more than
the whole feed may take (see the README's design notes). Every feed is
parsed back by icalendar, recurring-ical-events and ical.js in the tests.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

CRLF = "\r\n"
MAX_OCTETS = 75
# RFC 5545 TEXT allows no control characters except HTAB (3.3.11); line
# breaks are escaped before this runs.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def escape_text(value: str) -> str:
    r"""Escape a TEXT value: ``\`` ``;`` ``,`` and line breaks (RFC 5545 3.3.11).

    Written out rather than taken from icalendar, whose escaper also turns a
    literal ``\N`` in the input into a line break.
    """
    value = (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
             .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))
    return _CONTROL.sub("", value)


def content_line(name: str, value: str) -> str:
    """``NAME:value`` with CRLF, folded at 75 octets between whole characters."""
    line = f"{name}:{value}"
    # Fast path: most lines are short ASCII and need no folding.
    if len(line) <= MAX_OCTETS and line.isascii():
        return line + CRLF
    if len(line.encode("utf-8")) <= MAX_OCTETS:
        return line + CRLF
    return fold(line) + CRLF


def fold(line: str) -> str:
    """Fold a long line: CRLF + space before the 75th octet of each piece.

    Pieces break between whole characters (never inside a UTF-8 sequence)
    and never between a backslash and the character it escapes, which some
    clients mis-read.
    """
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    limit = MAX_OCTETS  # the first piece may use 75 octets
    for char in line:
        size = len(char.encode("utf-8"))
        if used + size > limit:
            carry = ""
            if current and current[-1] == "\\" and _escape_open(current):
                carry = current.pop()
            pieces.append("".join(current))
            current = [carry] if carry else []
            used = len(carry)
            limit = MAX_OCTETS - 1  # continuation lines start with a space
        current.append(char)
        used += size
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _escape_open(chars: list[str]) -> bool:
    """True when the last backslash in ``chars`` starts an escape (an odd run)."""
    run = 0
    for char in reversed(chars):
        if char != "\\":
            break
        run += 1
    return run % 2 == 1


def utc_value(moment: datetime | str) -> str:
    """A DATE-TIME in UTC form (``20260302T220000Z``).

    Also takes a UTC instant as SQLite stores it (``2026-03-02 22:00:00.000000``),
    which feeds read without converting it to a datetime first.
    """
    if isinstance(moment, str):
        if len(moment) >= 19 and moment[4] == "-" and moment[13] == ":":
            return (f"{moment[0:4]}{moment[5:7]}{moment[8:10]}T"
                    f"{moment[11:13]}{moment[14:16]}{moment[17:19]}Z")
        moment = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def local_value(moment: datetime, zone: ZoneInfo) -> str:
    """The wall-clock DATE-TIME of ``moment`` in ``zone`` (used with TZID)."""
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


@lru_cache(maxsize=64)
def zone(tzid: str) -> ZoneInfo:
    return ZoneInfo(tzid)


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first: date, last: date) -> str:
    """The VTIMEZONE for ``tzid`` from ``first`` to ``last``: the observance in
    force on ``first``, then one observance per transition, each with its own
    DTSTART (no RDATE, no RRULE).

    Why not ``icalendar.Timezone.from_tzid``: it lists later transitions as
    RDATEs, and ical.js (Thunderbird) then ignores the DTSTART onset, putting
    a whole summer in the wrong offset; it also writes the spring onset in
    the new offset, where RFC 5545 (and ical.js) read the old one. icalendar
    still builds and writes the components.
    """
    tz = zone(tzid)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(last, time(0), tzinfo=tz).astimezone(timezone.utc)
    component = Timezone()
    component.add("TZID", tzid)
    before = _state(start, tz)
    component.add_component(_observance(start.astimezone(tz).replace(tzinfo=None),
                                        before, before))
    for moment in _transitions(tz, start, end):
        after = _state(moment, tz)
        onset = (moment + before[0]).replace(tzinfo=None)  # local time in the old offset
        component.add_component(_observance(onset, before, after))
        before = after
    text = component.to_ical().decode("utf-8")
    return text if text.endswith(CRLF) else text + CRLF


_State = tuple  # (utcoffset, dst, tzname)
_STEP = timedelta(hours=6)  # no zone changes offset twice within six hours


def _state(moment: datetime, tz: ZoneInfo) -> _State:
    local = moment.astimezone(tz)
    return (local.utcoffset(), local.dst(), local.tzname())


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in (start, end] where the offset, DST flag or name change."""
    found = []
    low = start
    while low < end:
        high = min(low + _STEP, end)
        if _state(low, tz) != _state(high, tz):
            lo, hi = low, high  # the change is in (lo, hi]: narrow it to a second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if _state(mid, tz) == _state(lo, tz):
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(microsecond=0))
        low = high
    return found


def _observance(onset: datetime, before: _State, after: _State):
    observance = TimezoneDaylight() if after[1] else TimezoneStandard()
    observance.add("DTSTART", onset)
    observance.add("TZOFFSETFROM", before[0])
    observance.add("TZOFFSETTO", after[0])
    if after[2]:
        observance.add("TZNAME", after[2])
    return observance
