"""How a course is shown: sessions with "session k of N" and phase, progress
and the open flags the viewer may see."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from ..models import Course, CourseClient, CourseFlag, TherapySession, User
from ..plugin_manager import hooks
from ..scheduling.timeutil import from_minutes, local_instant
from .calendar import practice_zone
from .modalities import enabled_modalities


def course_list_query(user: User, filters: dict) -> Select:
    """The courses ``user`` may see that match ``filters`` (``clinician_id``,
    ``client_id``, ``status``, ``modality``, and ``date_from``/``date_to``:
    courses with a session on or between those local dates), by id."""
    q = select(Course).order_by(Course.id)
    if user.role == "clinician":
        q = q.where(Course.clinician_id == (user.clinician_id or 0))
    if filters.get("clinician_id"):
        q = q.where(Course.clinician_id == filters["clinician_id"])
    if filters.get("client_id"):
        q = q.where(Course.id.in_(select(CourseClient.course_id)
                                  .where(CourseClient.client_id == filters["client_id"])))
    for key in ("status", "modality"):
        if filters.get(key):
            q = q.where(getattr(Course, key) == filters[key])
    if filters.get("date_from") or filters.get("date_to"):
        span = select(TherapySession.course_id).group_by(TherapySession.course_id)
        zone = practice_zone()
        midnight = from_minutes(0)
        if filters.get("date_from"):
            lo = local_instant(filters["date_from"], midnight, zone)
            span = span.having(func.max(TherapySession.ends_at) > lo)
        if filters.get("date_to"):
            hi = local_instant(filters["date_to"] + timedelta(days=1), midnight, zone)
            span = span.having(func.min(TherapySession.starts_at) < hi)
        q = q.where(Course.id.in_(span))
    return q


def flag_visible(flag: CourseFlag, course: Course, user: User | None) -> bool:
    if user is None:
        return False
    treating = user.role == "clinician" and user.clinician_id == course.clinician_id
    if flag.audience == "clinician":
        return treating
    if flag.audience == "clinical":
        return treating or user.role == "admin"
    return True


def flag_item(flag: CourseFlag, clinician_id: int) -> dict:
    """A flag as the API shows it (``FlagSchema``), on a course or in
    ``GET /api/flags``; ``clinician_id`` is the course's."""
    from .flags import practice_today

    age = (practice_today() - flag.raised_at.astimezone(practice_zone()).date()).days
    return {"id": flag.id, "course_id": flag.course_id, "clinician_id": clinician_id,
            "code": flag.code, "plugin": flag.plugin, "severity": flag.severity,
            "audience": flag.audience, "message": flag.message, "due_date": flag.due_date,
            "raised_at": flag.raised_at, "updated_at": flag.updated_at,
            "client_id": flag.client_id, "held": bool(flag.held), "age_days": max(age, 0),
            "acknowledged_at": flag.acknowledged_at, "ack_outcome": flag.ack_outcome}


def positions(course: Course) -> dict[int, int]:
    """Session id -> k: its place among non-cancelled sessions in time order."""
    return {s.id: i for i, s in enumerate(course.counted_sessions(), start=1)}


def session_dicts(course: Course, zone: ZoneInfo) -> list[dict]:
    pos = positions(course)
    total = course.planned_sessions
    phase_hook = hooks().practice_session_phase
    out = []
    for s in sorted(course.sessions, key=lambda s: s.number):
        k = pos.get(s.id)
        phase = phase_hook(course=course, number=k, total=total) if k else None
        out.append({
            "id": s.id, "number": s.number,
            "starts_at": s.starts_at.astimezone(zone).isoformat(),
            "ends_at": s.ends_at.astimezone(zone).isoformat(),
            "room_id": s.room_id, "status": s.status, "phase": phase,
            "position": k, "label": f"session {k} of {total}" if k else None,
            "is_make_up": s.is_make_up, "makes_up": s.makes_up, "cancelled_by": s.cancelled_by,
            "cancel_reason": s.cancel_reason,
            "attendance": [{"client_id": p.client_id, "status": p.attendance}
                           for p in s.participants],
        })
    return out


def progress(course: Course) -> dict:
    """Delivered means attended (a no-show is not a delivered session); the
    current session is the next scheduled one, numbered as its label is."""
    attended = sum(1 for s in course.sessions if s.status == "attended")
    delivered = attended
    scheduled = sum(1 for s in course.sessions if s.status == "scheduled")
    counted = course.counted_sessions()
    upcoming = [i for i, s in enumerate(counted, start=1) if s.status == "scheduled"]
    if course.status != "active":
        k = delivered
    elif upcoming:
        k = min(upcoming[0], course.planned_sessions)
    else:
        k = min(len(counted) + 1, course.planned_sessions)
    return {"attended": attended, "delivered": delivered, "remaining": scheduled,
            "planned": course.planned_sessions, "current": k,
            "label": f"session {k} of {course.planned_sessions}"}


def course_dict(course: Course, user: User | None, zone: ZoneInfo, *,
                with_sessions: bool = True) -> dict:
    d = {
        "id": course.id, "client_ids": course.client_ids, "clinician_id": course.clinician_id,
        "room_id": course.room_id, "modality": course.modality,
        "modality_enabled": course.modality in enabled_modalities(),
        "label": course.label, "status": course.status, "outcome": course.outcome,
        "close_reason": course.close_reason, "planned_sessions": course.planned_sessions,
        "weekday": course.weekday, "start_time": course.start_time.strftime("%H:%M"),
        "duration_minutes": course.duration_minutes, "interval_weeks": course.interval_weeks,
        "first_date": course.first_date.isoformat(), "timezone": course.timezone,
        "progress": progress(course),
        "flags": [flag_item(f, course.clinician_id) for f in course.flags
                  if f.closed_at is None and flag_visible(f, course, user)],
    }
    if with_sessions:
        d["sessions"] = session_dicts(course, zone)
    return d
