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
    open_rows = {(f.plugin, f.code): f for f in course.flags if f.closed_at is None}
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
        elif (row.severity, row.message, row.due_date) != (spec.severity, spec.message,
                                                           spec.due_date):
            row.severity, row.message, row.due_date = spec.severity, spec.message, spec.due_date
            row.updated_at = now
    return [f for f in course.flags if f.closed_at is None]


def refresh_all_flags(today: date | None = None) -> int:
    """Refresh every active (or recently finished) course; returns how many."""
    courses = db.session.scalars(select(Course)).all()
    for c in courses:
        refresh_course_flags(c, today)
    return len(courses)
