"""PHQ-9 measures: record one per session, list them with the sessions
they are due at. Each use case is one transaction with its audit row (ids
and field names, never scores)."""
from __future__ import annotations

from sqlalchemy import select

from practice.audit import record
from practice.errors import Conflict, RuleViolation, violation
from practice.extensions import db
from practice.models import Course
from practice.services.flags import refresh_course_flags

from .flags import CourseView, due_ordinals
from .models import IptMeasure
from .rules import KEYS, PLUGIN
from .settings import settings


def _rows(course: Course) -> list[IptMeasure]:
    return list(db.session.scalars(select(IptMeasure).where(IptMeasure.course_id == course.id)
                                   .order_by(IptMeasure.session_number, IptMeasure.id)))


def due_sessions(course: Course) -> list[int]:
    """Session numbers a PHQ-9 is due at (baseline, every k-th, the last)."""
    if course.modality not in KEYS:
        return []
    view = CourseView(course)
    due = due_ordinals(view.total, settings().measure_every)
    return [view.at(k).number for k in due if view.at(k) is not None]


def list_measures(course: Course) -> dict:
    """The course's measures (readable with the plugin off); audited."""
    rows = _rows(course)
    record("view", "ipt_measures", course.id, course_id=course.id, count=len(rows))
    db.session.commit()
    return {"items": rows, "total": len(rows), "due_sessions": due_sessions(course)}


def record_measure(course: Course, data: dict, user_id: int | None) -> IptMeasure:
    """Record a PHQ-9 at one non-cancelled session of an IPT course."""
    if course.modality not in KEYS:
        raise RuleViolation([violation("ipt.measure_modality",
                                       f"Course {course.id} is not an IPT course.",
                                       plugin=PLUGIN)])
    number = data["session_number"]
    session = next((s for s in course.sessions if s.number == number), None)
    if session is None or session.cancelled:
        raise RuleViolation([violation(
            "ipt.measure_session",
            f"Session {number} {'was cancelled' if session else 'does not exist'}: a PHQ-9 "
            "belongs to a session that takes place.", field="session_number", plugin=PLUGIN)])
    if any(m.session_number == number for m in _rows(course)):
        raise Conflict(f"A PHQ-9 is already recorded for session {number}.")
    m = IptMeasure(course_id=course.id, session_number=number, instrument="phq9",
                   phq9_total=data["phq9_total"], phq9_item9=data["phq9_item9"],
                   recorded_by_user_id=user_id)
    db.session.add(m)
    db.session.flush()
    record("create", "ipt_measure", m.id, course_id=course.id, session_number=number)
    refresh_course_flags(course)
    db.session.commit()
    return m
