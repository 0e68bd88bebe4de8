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


def refresh_course_flags(course: Course, today: date | None = None) -> list[CourseFlag]:
    """Sync the course's open flags with what the enabled plugins say now.

    Flags of plugins that are not enabled are left as they are (disabling a
    plugin loses nothing). Does not commit: the caller's transaction does.
    """
    today = today or practice_today()
    pm = plugin_state().manager
    wanted: dict[tuple[str, str], object] = {}
    enabled_plugins = set()
    for impl in pm.hook.practice_course_flags.get_hookimpls():
        name = pm.get_name(impl.plugin)
        enabled_plugins.add(name)
        for spec in impl.function(course=course, today=today) or []:
            wanted[(spec.plugin or name, spec.code)] = spec
    now = utcnow()
    open_rows: dict[tuple, CourseFlag] = {}
    for f in course.flags:  # in id order: the oldest row of a flag is the one kept
        if f.closed_at is None:
            if (f.plugin, f.code) in open_rows:
                # Two refreshes racing (PostgreSQL, read committed) can both
                # raise a flag; the next refresh closes the younger twin.
                f.closed_at = f.updated_at = now
                continue
            open_rows[(f.plugin, f.code)] = f
    for key, row in open_rows.items():
        if row.plugin in enabled_plugins and key not in wanted:
            row.closed_at = now
            row.updated_at = now
    for key, spec in wanted.items():
        row = open_rows.get(key)
        if row is None:
            course.flags.append(CourseFlag(code=spec.code, plugin=key[0], severity=spec.severity,
                                           audience=spec.audience, message=spec.message,
                                           due_date=spec.due_date, raised_at=now,
                                           updated_at=now))
        elif (row.severity, row.message, row.due_date, row.audience) != \
                (spec.severity, spec.message, spec.due_date, spec.audience):
            row.severity, row.message, row.due_date = spec.severity, spec.message, spec.due_date
            row.audience = spec.audience
            row.updated_at = now
    return [f for f in course.flags if f.closed_at is None]


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
