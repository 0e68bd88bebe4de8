"""Custom marshmallow fields shared by the API schemas."""
from __future__ import annotations

import re
from datetime import time

from marshmallow import ValidationError, fields, validate

from ..models import MAX_ID  # re-exported: the schemas take it from here

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
