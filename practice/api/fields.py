"""Custom marshmallow fields shared by the API schemas."""
from __future__ import annotations

import re
from datetime import time

from marshmallow import ValidationError, fields

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


