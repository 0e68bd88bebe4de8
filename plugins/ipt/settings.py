"""The IPT plugin's settings: what a practice may change, and their bounds.

Read from ``app.config`` (tests, ``instance/config.py``) or, failing that,
the environment, and checked once in ``practice_configure``: a value out of
its bounds stops start-up naming the key and the bounds allowed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context

from practice.errors import ConfigurationError

EXTENSION_KEY = "ipt"


@dataclass(frozen=True)
class IptSettings:
    """Defaults are the model's (SPEC 8); each has a practice-settable range."""

    termination_sessions: int = 3     # IPT_TERMINATION_SESSIONS: last 2-4 sessions
    maintenance_months: int = 24      # IPT_MAINTENANCE_MONTHS: 6-36
    overdue_days: int = 35            # IPT_OVERDUE_DAYS: no attended IPT-M session for more
    overdue_high_days: int = 49       # IPT_OVERDUE_HIGH_DAYS: ... then high
    measure_every: int = 4            # IPT_MEASURE_EVERY: PHQ-9 every k sessions
    safety_threshold: int = 1         # IPT_SAFETY_THRESHOLD: item 9 at or above raises a review
    safety_review_days: int = 2       # IPT_SAFETY_REVIEW_DAYS: working days, then overdue
    brief_initial_sessions: int = 2   # IPT_BRIEF_INITIAL_SESSIONS: IPT-B's initial phase
    attendance_missed: int = 3        # IPT_ATTENDANCE_MISSED: missed sessions, renegotiate
    make_up_limit: int = 4            # IPT_MAKE_UP_LIMIT: automatic make-ups per course
    no_response_percent: int = 25     # IPT_NO_RESPONSE_PERCENT: drop from baseline by mid-course
    crisis_text: str = ""             # IPT_CRISIS_TEXT: shown with a safety review (country)


# key -> (attribute, minimum, maximum). Overdue must exceed the 4-week
# maintenance interval (28 days), or every IPT-M course would be overdue.
BOUNDS = {
    "IPT_TERMINATION_SESSIONS": ("termination_sessions", 2, 4),
    "IPT_MAINTENANCE_MONTHS": ("maintenance_months", 6, 36),
    "IPT_OVERDUE_DAYS": ("overdue_days", 29, 120),
    "IPT_OVERDUE_HIGH_DAYS": ("overdue_high_days", 30, 180),
    "IPT_MEASURE_EVERY": ("measure_every", 1, 8),
    "IPT_SAFETY_THRESHOLD": ("safety_threshold", 1, 3),
    "IPT_SAFETY_REVIEW_DAYS": ("safety_review_days", 1, 10),
    "IPT_BRIEF_INITIAL_SESSIONS": ("brief_initial_sessions", 1, 3),
    "IPT_ATTENDANCE_MISSED": ("attendance_missed", 2, 8),
    "IPT_MAKE_UP_LIMIT": ("make_up_limit", 0, 8),
    "IPT_NO_RESPONSE_PERCENT": ("no_response_percent", 10, 50),
}
CRISIS_TEXT_MAX = 500


def _as_int(key: str, value: object) -> int:
    if isinstance(value, bool):
        raise ConfigurationError(f"{key} must be a whole number, not {value!r}.")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError as err:
        raise ConfigurationError(f"{key} must be a whole number, not {value!r}.") from err


def load_settings(app: Flask) -> IptSettings:
    """Settings from ``app.config``, else the environment, else the defaults."""
    values = {}
    for key, (attr, low, high) in BOUNDS.items():
        raw = app.config.get(key)
        if raw is None:
            raw = os.environ.get(key) or None
        if raw is None:
            continue
        number = _as_int(key, raw)
        if not low <= number <= high:
            raise ConfigurationError(f"{key}={number} is out of bounds: use {low}-{high}.")
        values[attr] = number
    crisis = app.config.get("IPT_CRISIS_TEXT")
    if crisis is None:
        crisis = os.environ.get("IPT_CRISIS_TEXT") or ""
    if not isinstance(crisis, str) or len(crisis) > CRISIS_TEXT_MAX:
        raise ConfigurationError(f"IPT_CRISIS_TEXT must be text of at most {CRISIS_TEXT_MAX} "
                                 "characters.")
    values["crisis_text"] = crisis.strip()
    settings = IptSettings(**values)
    if settings.overdue_high_days <= settings.overdue_days:
        raise ConfigurationError(
            f"IPT_OVERDUE_HIGH_DAYS ({settings.overdue_high_days}) must be greater than "
            f"IPT_OVERDUE_DAYS ({settings.overdue_days}).")
    return settings


def settings() -> IptSettings:
    """The current app's settings (the defaults outside an app context)."""
    if has_app_context():
        found = current_app.extensions.get(EXTENSION_KEY)
        if found is not None:
            return found
    return IptSettings()
