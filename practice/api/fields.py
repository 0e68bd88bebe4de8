"""Custom marshmallow fields shared by the API schemas."""
from __future__ import annotations

import re
from datetime import date, datetime, time

from marshmallow import ValidationError, fields, validate

from ..models import MAX_ID  # re-exported: the schemas take it from here
from ..scheduling.bounds import FIRST_DAY, LAST_DAY

FIRST_BIRTH_DAY = date(1900, 1, 1)

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class HHMM(fields.Field):
    """A local wall-clock time written "HH:MM" (24-hour)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("pattern", _HHMM.pattern)
        kwargs["metadata"].setdefault("example", "10:00")
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _HHMM.match(value):
            raise ValidationError("Not a valid time: use HH:MM (24-hour).")
        h, m = value.split(":")
        return time(int(h), int(m))


# Request bodies are JSON, which has real numbers and booleans: "5", 1.5 or
# "yes" are type errors there, not values to coerce (1.5 must not become 1).
# Query strings only carry text, so their schemas keep the lenient fields.


class StrictInt(fields.Integer):
    """An integer that must be a JSON number without a fraction."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class StrictBool(fields.Boolean):
    """A boolean that must be JSON ``true`` or ``false`` (not 1, "yes"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Id(StrictInt):
    """A reference to another object by id (a JSON integer, 1..2**31-1)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


# -- dates with a range (SPEC section 4) --------------------------------------
# Declared once here, so every schema checks the same range (422) and the
# OpenAPI document states it: ``format: date`` with the range in the
# description and in ``x-minimum``/``x-maximum`` (JSON Schema's minimum and
# maximum apply to numbers only). "today" is the server's date at the request.

def _bound(value) -> date:
    return value() if callable(value) else value


def _label(value) -> str:
    return "today" if callable(value) else value.isoformat()


class BoundedDate(fields.Date):
    """A YYYY-MM-DD date from ``first`` to ``last`` (either may be a callable,
    e.g. ``date.today``); outside it the request is refused with 422."""

    def __init__(self, *, first, last, what: str = "", **kwargs):
        self.first, self.last = first, last
        span = f"from {_label(first)} to {_label(last)}"
        meta = kwargs.setdefault("metadata", {})
        meta["description"] = " ".join(p for p in (meta.get("description"), what,
                                                   f"A date {span} (both included).") if p)
        meta.setdefault("x-minimum", _label(first))
        meta.setdefault("x-maximum", _label(last))
        self.span = span
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not _bound(self.first) <= day <= _bound(self.last):
            raise ValidationError(f"Must be a date {self.span}.")
        return day


def SchedulingDate(**kw) -> BoundedDate:  # noqa: N802  (reads like a field class)
    """A date sessions, closures or absences may fall on: 2000-01-01 to 2199-12-31."""
    return BoundedDate(first=FIRST_DAY, last=LAST_DAY, **kw)


def BirthDate(**kw) -> BoundedDate:  # noqa: N802
    """A date of birth: 1900-01-01 to today."""
    return BoundedDate(first=FIRST_BIRTH_DAY, last=date.today, **kw)


def ClinicalDate(**kw) -> BoundedDate:  # noqa: N802
    """A date something clinical happened (an intake's formulation agreed, a
    measure taken): 1900-01-01 to today, never in the future."""
    return BoundedDate(first=FIRST_BIRTH_DAY, last=date.today, **kw)


class SchedulingDateTime(fields.AwareDateTime):
    """An RFC 3339 instant with its offset, whose date as written lies in the
    scheduling range (checked before any conversion between zones, which
    would overflow near year 1 or 9999); the practice's local date is
    checked again where the instant is used."""

    def __init__(self, **kwargs):
        meta = kwargs.setdefault("metadata", {})
        meta["description"] = " ".join(p for p in (
            meta.get("description"), "An RFC 3339 date-time with an offset, on a date from "
            f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.") if p)
        meta.setdefault("x-minimum", FIRST_DAY.isoformat())
        meta.setdefault("x-maximum", LAST_DAY.isoformat())
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                written = datetime.fromisoformat(value).date()
            except ValueError:
                written = None
            if written is not None and not FIRST_DAY <= written <= LAST_DAY:
                raise ValidationError(f"Must be on a date from {FIRST_DAY.isoformat()} to "
                                      f"{LAST_DAY.isoformat()}.")
        return super()._deserialize(value, attr, data, **kwargs)
