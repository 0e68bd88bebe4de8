"""Course flags: ask the plugins which flags should be open, then make the
stored rows match (raise once, update, close when the condition ends)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..db import utcnow
from ..extensions import db
from ..models import Course, CourseFlag
from ..plugin_manager import plugin_state


def practice_today() -> date:
    """Today in the practice's zone; tests may set ``PRACTICE_TODAY``."""
    fixed = current_app.config.get("PRACTICE_TODAY")
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    return datetime.now(ZoneInfo(current_app.config["PRACTICE_TIMEZONE"])).date()


def flags_enabled() -> bool:
    """Whether any enabled plugin raises flags (if none does, no refresh can
    change anything)."""
    return bool(plugin_state().manager.hook.practice_course_flags.get_hookimpls())


def _key(plugin: str | None, code: str, ref: str | None) -> tuple:
    """How a stored flag and a wanted one are matched: by ref when it has one
    (several flags of one code; a ref'd flag may change code), else by code."""
    return (plugin, "ref", ref) if ref else (plugin, "code", code)


def refresh_course_flags(course: Course, today: date | None = None) -> list[CourseFlag]:
    """Sync the course's open flags with what the enabled plugins say now.

    Flags of plugins that are not enabled are left as they are (disabling a
    plugin loses nothing). A held flag (a safety review) is never closed
    here: only a person's acknowledgement closes it, and a ref once
    acknowledged is not raised again. Does not commit: the caller's
    transaction does.
    """
    today = today or practice_today()
    pm = plugin_state().manager
    wanted: dict[tuple, object] = {}
    enabled_plugins = set()
    for impl in pm.hook.practice_course_flags.get_hookimpls():
        name = pm.get_name(impl.plugin)
        enabled_plugins.add(name)
        for spec in impl.function(course=course, today=today) or []:
            wanted[_key(spec.plugin or name, spec.code, spec.ref)] = spec
    now = utcnow()
    open_rows: dict[tuple, CourseFlag] = {}
    acknowledged = set()
    for f in course.flags:  # in id order: the oldest row of a flag is the one kept
        key = _key(f.plugin, f.code, f.ref)
        if f.closed_at is not None:
            if f.held and f.acknowledged_at is not None:
                acknowledged.add(key)
            continue
        if key in open_rows and not f.held:
            # Two refreshes racing (PostgreSQL, read committed) can both
            # raise a flag; the next refresh closes the younger twin.
            f.closed_at = f.updated_at = now
            continue
        open_rows.setdefault(key, f)
    for key, row in open_rows.items():
        if row.plugin in enabled_plugins and key not in wanted and not row.held:
            row.closed_at = now
            row.updated_at = now
    for key, spec in wanted.items():
        if key in acknowledged:
            continue
        row = open_rows.get(key)
        if row is None:
            course.flags.append(CourseFlag(code=spec.code, plugin=key[0], severity=spec.severity,
                                           audience=spec.audience, message=spec.message,
                                           due_date=spec.due_date, raised_at=now,
                                           updated_at=now, ref=spec.ref, held=spec.held,
                                           client_id=spec.client_id))
        elif (row.code, row.severity, row.message, row.due_date, row.audience) != \
                (spec.code, spec.severity, spec.message, spec.due_date, spec.audience):
            row.code, row.severity, row.message = spec.code, spec.severity, spec.message
            row.due_date, row.audience = spec.due_date, spec.audience
            row.updated_at = now
    return [f for f in course.flags if f.closed_at is None]


ACK_OUTCOMES = ("no_current_risk", "safety_plan_reviewed", "crisis_referral", "other")


def acknowledge_flag(flag_id: int, user, outcome: str, note: str) -> tuple[CourseFlag, Course]:
    """A person acknowledges a held flag (a safety review) with an outcome and
    a note: it closes, audited (ids and the outcome; never the note).

    A flag the user may not see is a 404, as if it did not exist; a flag that
    is not held is refused (422); one already acknowledged is a 409.
    """
    from ..audit import record
    from ..errors import Conflict, NotFound, RuleViolation, violation
    from .course_view import flag_visible

    flag = db.session.get(CourseFlag, flag_id) if 0 < flag_id < 2**31 else None
    course = db.session.get(Course, flag.course_id) if flag is not None else None
    if flag is None or not flag_visible(flag, course, user):
        raise NotFound(f"Flag {flag_id} does not exist.")
    if not flag.held:
        raise RuleViolation([violation("flag.not_acknowledgeable",
                                       f"Flag {flag_id} ({flag.code}) closes by itself when "
                                       "its condition ends; only held flags are acknowledged.")])
    if flag.acknowledged_at is not None:
        raise Conflict(f"Flag {flag_id} was already acknowledged.")
    now = utcnow()
    flag.acknowledged_at = flag.closed_at = flag.updated_at = now
    flag.acknowledged_by_user_id = user.id
    flag.ack_outcome = outcome
    flag.ack_note = note
    record("acknowledge", "flag", flag.id, course_id=flag.course_id, code=flag.code,
           outcome=outcome, client_id=flag.client_id)
    refresh_course_flags(course)
    db.session.commit()
    return flag, course


# -- listing ---------------------------------------------------------------------
def refresh_flags_for(clinician_id: int | None = None, today: date | None = None) -> int:
    """Refresh the courses whose flags may have changed with the date: the
    active ones and those with an open flag (optionally one clinician's).

    Every change to a course refreshes its flags in the same transaction, so
    what is left to catch up with is the date alone: each app (worker) does
    this once per practice day (and clinician filter), not on every request.
    """
    from sqlalchemy import or_

    if not flags_enabled():
        return 0
    today = today or practice_today()
    done = current_app.extensions.get("practice_flags_refreshed")
    if done is None or done["day"] != today:
        done = current_app.extensions["practice_flags_refreshed"] = {"day": today,
                                                                     "scopes": set()}
    if None in done["scopes"] or clinician_id in done["scopes"]:
        return 0  # already caught up today (everyone's, or this clinician's)
    open_flag = select(CourseFlag.course_id).where(CourseFlag.closed_at.is_(None))
    q = select(Course).where(or_(Course.status == "active", Course.id.in_(open_flag)))
    if clinician_id is not None:
        q = q.where(Course.clinician_id == clinician_id)
    courses = db.session.scalars(q.order_by(Course.id)).all()
    for c in courses:
        refresh_course_flags(c, today)
    done["scopes"].add(clinician_id)
    return len(courses)


def open_flags_query(user, clinician_id: int | None = None, course_id: int | None = None,
                     code: str | None = None, severity: str | None = None):
    """A select of the open flags ``user`` may see, most urgent first.

    Audiences (as ``course_view.flag_visible``): "all" staff; "clinical" the
    treating clinician and admins; "clinician" the treating clinician only.
    A clinician sees only their own courses' flags."""
    from sqlalchemy import case

    q = (select(CourseFlag).join(Course, Course.id == CourseFlag.course_id)
         .where(CourseFlag.closed_at.is_(None)))
    if user.role == "clinician":
        q = q.where(Course.clinician_id == (user.clinician_id or 0))
    elif user.role == "admin":
        q = q.where(CourseFlag.audience.in_(("all", "clinical")))
    else:
        q = q.where(CourseFlag.audience == "all")
    if clinician_id is not None:
        q = q.where(Course.clinician_id == clinician_id)
    if course_id is not None:
        q = q.where(CourseFlag.course_id == course_id)
    if code:
        q = q.where(CourseFlag.code == code)
    if severity:
        q = q.where(CourseFlag.severity == severity)
    rank = case({"high": 0, "warning": 1, "info": 2}, value=CourseFlag.severity, else_=3)
    return q.order_by(rank, CourseFlag.due_date.is_(None), CourseFlag.due_date, CourseFlag.id)
