"""The range of dates the practice schedules in (SPEC section 4).

Every scheduling date the API takes is checked against it by the schemas
(``practice.api.fields``); the computations that step from an accepted date
(a series, "this and following", an extension, a make-up) check each date
they reach here, so none runs past the range (or into ``date.max``, where
Python's date arithmetic overflows), and none reaches the years before
time zones were standardised, whose local-mean-time offsets (``-00:01:15``)
are no RFC 3339 offset.
"""
from __future__ import annotations

from datetime import date

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)
RULE = "schedule.out_of_range"


class OutOfRange(ValueError):
    """A date a computation reached is outside FIRST_DAY..LAST_DAY."""

    def __init__(self, day: date, what: str = "A session"):
        super().__init__(f"{what} would fall on {day.isoformat()}, outside the scheduling "
                         f"range {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
        self.day = day


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def check(day: date, what: str = "A session") -> date:
    """``day`` itself, or OutOfRange."""
    if not in_range(day):
        raise OutOfRange(day, what)
    return day
