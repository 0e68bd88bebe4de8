"""PHQ-9 measures: enter one per client and session as its nine items,
correct or void it with a reason (its history kept), read them with the
sessions they are due at, and record the maintenance decision.

Each use case is one transaction with its audit row (ids and field names,
never scores or notes). Entering or correcting a measure refreshes the
course's flags in the same transaction; the answer lists the flags that
measure raised (a safety review among them), with the practice's crisis text.
"""
from __future__ import annotations

from sqlalchemy import select

from practice.audit import record
from practice.db import utcnow
from practice.errors import Conflict, NotFound, RuleViolation, violation
from practice.extensions import db
from practice.models import Course
from practice.services.course_view import flag_item
from practice.services.flags import refresh_course_flags

from .flags import CourseView, due_ordinals
from .models import IptMeasure, IptMeasureVersion
from .rules import ACUTE, KEYS, PLUGIN
from .settings import settings

BANDS = ((4, "minimal"), (9, "mild"), (14, "moderate"), (19, "moderately severe"),
         (27, "severe"))  # PHQ-9 severity (Kroenke, Spitzer & Williams 2001)
MAINTENANCE_DECISIONS = ("planned", "declined", "not_indicated")


def band(total: int) -> str:
    return next(name for top, name in BANDS if total <= top)


def _rows(course: Course) -> list[IptMeasure]:
    return list(db.session.scalars(select(IptMeasure).where(IptMeasure.course_id == course.id)
                                   .order_by(IptMeasure.session_number, IptMeasure.client_id,
                                             IptMeasure.id)))


def due_sessions(course: Course) -> list[int]:
    """Session numbers a PHQ-9 is due at (baseline, every k-th, the last)."""
    if course.modality not in KEYS:
        return []
    view = CourseView(course)
    due = due_ordinals(view.total, settings().measure_every)
    return [view.at(k).number for k in due if view.at(k) is not None]


def measure_dict(m: IptMeasure, *, history: bool = False) -> dict:
    d = {"id": m.id, "course_id": m.course_id, "client_id": m.client_id,
         "session_number": m.session_number, "instrument": m.instrument, "items": m.items,
         "total": m.phq9_total, "band": band(m.phq9_total), "item9": m.phq9_item9,
         "entered_without_items": m.items is None, "version": m.version,
         "voided": m.voided_at is not None, "voided_at": m.voided_at,
         "recorded_at": m.recorded_at, "recorded_by_user_id": m.recorded_by_user_id,
         "updated_at": m.updated_at}
    if history:
        d["history"] = [{"version": v.version, "action": v.action, "items": v.items,
                         "total": v.phq9_total, "item9": v.phq9_item9, "reason": v.reason,
                         "recorded_at": v.recorded_at,
                         "recorded_by_user_id": v.recorded_by_user_id} for v in m.versions]
        d["void_reason"] = m.void_reason
    return d


def list_measures(course: Course) -> dict:
    """The course's measures, voided ones marked (readable with the plugin
    off); audited."""
    rows = _rows(course)
    record("view", "ipt_measures", course.id, course_id=course.id, count=len(rows))
    db.session.commit()
    return {"items": [measure_dict(m) for m in rows], "total": len(rows),
            "due_sessions": due_sessions(course)}


def get_measure(measure_id: int, course_for) -> tuple[IptMeasure, Course]:
    """A measure and its course, through ``course_for`` (the caller's access
    check: 404 for a course the user may not see)."""
    m = db.session.get(IptMeasure, measure_id) if 0 < measure_id < 2**31 else None
    if m is None:
        raise NotFound(f"Measure {measure_id} does not exist.")
    try:
        course = course_for(m.course_id)
    except NotFound:
        raise NotFound(f"Measure {measure_id} does not exist.") from None
    return m, course


def read_measure(m: IptMeasure) -> dict:
    record("view", "ipt_measure", m.id, course_id=m.course_id)
    db.session.commit()
    return measure_dict(m, history=True)


def _refused(rule: str, message: str, field: str) -> RuleViolation:
    return RuleViolation([violation(rule, message, field=field, plugin=PLUGIN)])


def _raised_by(course: Course, m: IptMeasure, version: int) -> list[dict]:
    """The open flags this entry (``version`` of ``m``) raised."""
    ref = f"safety:{m.id}:{version}"
    return [flag_item(f, course.clinician_id) for f in course.flags
            if f.closed_at is None and f.ref == ref]


def _answer(course: Course, m: IptMeasure) -> dict:
    d = measure_dict(m, history=True)
    d["flags"] = _raised_by(course, m, m.version)
    d["safety_review"] = any(f["code"].startswith("ipt.safety_review") for f in d["flags"])
    d["crisis_text"] = settings().crisis_text if d["safety_review"] else ""
    return d


def _scores(items: list[int]) -> tuple[list[int], int, int]:
    items = list(items)
    return items, sum(items), items[8]


def member_of(course: Course, client_id: int | None, rule: str, what: str) -> int:
    """The member a per-client record is for: the one client of an
    individual course, or ``client_id``, which a group course needs and which
    must be in the course (422 under ``rule`` otherwise)."""
    if client_id is None:
        if len(course.client_ids) != 1:
            raise _refused(rule, f"A group course needs the client_id of the member {what}.",
                           "client_id")
        return course.client_ids[0]
    if client_id not in course.client_ids:
        raise _refused(rule, f"Client {client_id} is not in course {course.id}.", "client_id")
    return client_id


def record_measure(course: Course, data: dict, user_id: int | None) -> dict:
    """Enter a PHQ-9 for one client at one session that has started and was
    not cancelled."""
    if course.modality not in KEYS:
        raise _refused("ipt.measure_modality", f"Course {course.id} is not an IPT course.",
                       "course_id")
    number = data["session_number"]
    session = next((s for s in course.sessions if s.number == number), None)
    if session is None:
        raise _refused("ipt.measure_session", f"Session {number} does not exist: a PHQ-9 "
                       "belongs to a session of this course.", "session_number")
    if session.cancelled:
        raise _refused("ipt.measure_session_cancelled", f"Session {number} was cancelled: a "
                       "PHQ-9 belongs to a session that takes place.", "session_number")
    if session.starts_at > utcnow():
        raise _refused("ipt.measure_session_not_started", f"Session {number} has not started "
                       "yet: a PHQ-9 is entered at or after its session.", "session_number")
    client_id = member_of(course, data.get("client_id"), "ipt.measure_client",
                          "this PHQ-9 belongs to")
    clash = db.session.scalar(select(IptMeasure.id).where(
        IptMeasure.course_id == course.id, IptMeasure.client_id == client_id,
        IptMeasure.session_number == number, IptMeasure.instrument == "phq9",
        IptMeasure.voided_at.is_(None)))
    if clash is not None:
        raise Conflict(f"A PHQ-9 is already recorded for this client at session {number} "
                       f"(measure {clash}): correct it instead.")
    items, total, item9 = _scores(data["items"])
    now = utcnow()
    m = IptMeasure(course_id=course.id, client_id=client_id, session_number=number,
                   instrument="phq9", items=items, phq9_total=total, phq9_item9=item9,
                   version=1, recorded_at=now, recorded_by_user_id=user_id)
    m.versions.append(IptMeasureVersion(version=1, action="entered", items=items,
                                        phq9_total=total, phq9_item9=item9, recorded_at=now,
                                        recorded_by_user_id=user_id))
    db.session.add(m)
    db.session.flush()
    record("create", "ipt_measure", m.id, course_id=course.id, session_number=number,
           client_id=client_id)
    refresh_course_flags(course)
    db.session.commit()
    return _answer(course, m)


def _reason(data: dict) -> str:
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise _refused("ipt.measure_reason", "Give the reason for the change.", "reason")
    return reason


def _not_voided(m: IptMeasure) -> None:
    if m.voided_at is not None:
        raise _refused("ipt.measure_voided", f"Measure {m.id} was voided; enter a new one.",
                       "id")


def correct_measure(course: Course, m: IptMeasure, data: dict, user_id: int | None) -> dict:
    """Correct the items of a measure: a new version, the old ones kept. A
    safety review an earlier version raised stays open until acknowledged."""
    _not_voided(m)
    reason = _reason(data)
    items, total, item9 = _scores(data["items"])
    now = utcnow()
    m.version += 1
    m.items, m.phq9_total, m.phq9_item9, m.updated_at = items, total, item9, now
    m.versions.append(IptMeasureVersion(version=m.version, action="corrected", items=items,
                                        phq9_total=total, phq9_item9=item9, reason=reason,
                                        recorded_at=now, recorded_by_user_id=user_id))
    db.session.flush()
    record("correct", "ipt_measure", m.id, course_id=course.id, version=m.version,
           fields=["items"])
    refresh_course_flags(course)
    db.session.commit()
    return _answer(course, m)


def void_measure(course: Course, m: IptMeasure, data: dict, user_id: int | None) -> dict:
    """Void a measure (entered in error): kept and readable, no longer counted;
    a safety review it raised stays open until acknowledged."""
    _not_voided(m)
    reason = _reason(data)
    now = utcnow()
    m.version += 1
    m.voided_at = m.updated_at = now
    m.voided_by_user_id = user_id
    m.void_reason = reason
    m.versions.append(IptMeasureVersion(version=m.version, action="voided", items=m.items,
                                        phq9_total=m.phq9_total, phq9_item9=m.phq9_item9,
                                        reason=reason, recorded_at=now,
                                        recorded_by_user_id=user_id))
    db.session.flush()
    record("void", "ipt_measure", m.id, course_id=course.id, version=m.version)
    refresh_course_flags(course)
    db.session.commit()
    return _answer(course, m)


def record_maintenance_decision(course: Course, data: dict, user_id: int | None) -> dict:
    """Record the maintenance discussion's decision (per member in a group):
    it closes ``ipt.maintenance_due`` for that client; audited."""
    if course.modality not in ACUTE:
        raise _refused("ipt.maintenance_course", f"Course {course.id} is not an acute IPT "
                       "course.", "course_id")
    client_id = member_of(course, data.get("client_id"), "ipt.maintenance_client",
                          "this decision is for")
    md = dict(course.modality_data or {})
    decisions = dict(md.get("maintenance") or {})
    entry = {"decision": data["decision"], "note": (data.get("note") or "").strip(),
             "decided_at": utcnow().isoformat(), "decided_by_user_id": user_id}
    decisions[str(client_id)] = entry
    md["maintenance"] = decisions
    course.modality_data = md
    record("maintenance_decision", "course", course.id, client_id=client_id,
           decision=data["decision"])
    refresh_course_flags(course)
    db.session.commit()
    return {"course_id": course.id, "client_id": client_id, **entry}
