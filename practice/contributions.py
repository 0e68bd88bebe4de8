"""Small frozen dataclasses that hooks return ("contributions").

The core validates and merges them and names the plugin in every error.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

Severity = Literal["info", "warning", "high"]


@dataclass(frozen=True)
class Modality:
    """A therapy model a plugin offers. Bounds are inclusive."""

    key: str
    label: str
    min_sessions: int = 1
    max_sessions: int = 104
    default_sessions: int = 12
    default_interval_weeks: int = 1
    allowed_intervals: tuple[int, ...] = ()  # empty: any of 1..8
    min_duration: int = 10
    max_duration: int = 240
    default_duration: int = 50
    min_clients: int = 1
    max_clients: int | None = None
    max_extended_sessions: int | None = None
    description: str = ""
    plugin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["allowed_intervals"] = list(self.allowed_intervals)
        return d


@dataclass(frozen=True)
class Verdict:
    """A plugin's answer to a check: a violation refuses (422), a warning is
    reported beside a success."""

    rule: str
    message: str
    kind: Literal["violation", "warning"] = "violation"
    field: str | None = None
    plugin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"rule": self.rule, "plugin": self.plugin, "message": self.message}
        if self.field:
            d["field"] = self.field
        return d


def violation(rule: str, message: str, *, field: str | None = None,
              plugin: str | None = None) -> Verdict:
    return Verdict(rule=rule, message=message, kind="violation", field=field, plugin=plugin)


def warning(rule: str, message: str, *, field: str | None = None,
            plugin: str | None = None) -> Verdict:
    return Verdict(rule=rule, message=message, kind="warning", field=field, plugin=plugin)


@dataclass(frozen=True)
class FlagSpec:
    """A flag that should be open on a course now (the core opens, updates and
    closes the stored rows to match)."""

    code: str
    severity: Severity
    message: str
    due_date: date | None = None
    plugin: str | None = None
    # "all" staff; "clinical": treating clinician and admins; "clinician":
    # the treating clinician only (crisis-related flags).
    audience: Literal["all", "clinical", "clinician"] = "all"
    # Several flags of one code on a course (one per measure, per client...):
    # ``ref`` names this one, unique within the plugin; rows are matched by
    # (plugin, ref) instead of (plugin, code), so a ref'd flag may change code.
    ref: str | None = None
    # Held: stays open until a person acknowledges it (``POST
    # /api/flags/<id>/acknowledge``); a refresh never closes it, and an
    # acknowledged ref is never raised again.
    held: bool = False
    client_id: int | None = None  # the client it concerns, if one


@dataclass(frozen=True)
class IntakeField:
    """One field of a modality's intake form, for forms and documentation."""

    name: str
    label: str
    type: Literal["choice", "text", "date", "integer", "list"]
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d


@dataclass
class BookingDraft:
    """What a booking (or preview) would create, given to check hooks.

    ``sessions`` are dicts with ``number``, ``starts_at``, ``ends_at``,
    ``room_id``; hooks read it, never change it.
    """

    modality: str
    clinician_id: int
    room_id: int
    client_ids: list[int]
    session_count: int
    interval_weeks: int
    duration_minutes: int
    first_date: date
    sessions: list[dict] = field(default_factory=list)
    course_id: int | None = None
