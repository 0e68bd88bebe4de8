"""A course's modality intake: read, validate and replace it.

The intake lives in ``course.modality_data["intake"]``, so it stays in the
database (and readable, as stored) when its plugin is disabled. The plugin
that owns the modality describes the fields (``practice_intake_fields``) and
validates a new intake (``practice_validate_intake``): any violation refuses
the whole write with 422, one violation per failing field. Every read and
write is audited (``view`` / ``update``, object type ``intake``), with field
names only, never values.
"""
from __future__ import annotations

from typing import Any

from ..audit import record
from ..contributions import Verdict
from ..errors import RuleViolation, violation
from ..extensions import db
from ..models import Course
from .flags import refresh_course_flags
from .modalities import enabled_modalities, first_result

OBJECT_TYPE = "intake"


def stored_intake(course: Course) -> dict[str, Any]:
    return dict((course.modality_data or {}).get("intake") or {})


def intake_fields(modality: str) -> list[dict]:
    """The modality's intake fields, or [] when no enabled plugin owns it."""
    _, fields = first_result("practice_intake_fields", modality=modality)
    return [f.to_dict() for f in fields or []]


def clean_intake(modality: str, data: Any) -> dict[str, Any]:
    """Validate an intake for ``modality``; raise RuleViolation (422) on any
    failing field. Also used by booking when the request carries ``intake``."""
    plugin, result = first_result("practice_validate_intake", modality=modality, data=data)
    if result is None:
        enabled = modality in enabled_modalities()
        raise RuleViolation([violation(
            "intake.unsupported",
            f"Modality {modality!r} has no intake form." if enabled else
            f"Modality {modality!r} is not enabled here: its intake can be read, not changed.",
            field="intake")])
    clean, verdicts = result
    problems = []
    for v in verdicts:
        if not isinstance(v, Verdict):
            raise TypeError(f"plugin {plugin!r} returned {v!r} from practice_validate_intake")
        d = v.to_dict()
        d["plugin"] = v.plugin or plugin
        problems.append(d)
    if problems:
        raise RuleViolation(problems, message="The intake is not valid: " + "; ".join(
            f"{p.get('field', '_')}: {p['message']}" for p in problems))
    return clean


def intake_view(course: Course) -> dict[str, Any]:
    return {"course_id": course.id, "modality": course.modality,
            "modality_enabled": course.modality in enabled_modalities(),
            "fields": intake_fields(course.modality), "data": stored_intake(course)}


def read_intake(course: Course) -> dict[str, Any]:
    """The intake as stored (raw when no plugin owns the modality now); audited."""
    view = intake_view(course)
    record("view", OBJECT_TYPE, course.id, course_id=course.id, fields=sorted(view["data"]))
    db.session.commit()
    return view


def replace_intake(course: Course, data: Any) -> dict[str, Any]:
    """Validate and store a whole new intake, refresh the flags; audited."""
    clean = clean_intake(course.modality, data)
    before = stored_intake(course)
    # A new dict: the JSON column tracks assignment, not in-place changes.
    course.modality_data = {**(course.modality_data or {}), "intake": clean}
    changed = sorted(k for k in set(before) | set(clean) if before.get(k) != clean.get(k))
    record("update", OBJECT_TYPE, course.id, course_id=course.id, fields=changed)
    refresh_course_flags(course)
    db.session.commit()
    return intake_view(course)
