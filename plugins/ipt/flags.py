"""Which IPT flags should be open on a course now.

Everything is computed from the course's real state (sessions and their
attendance, dates, intake, PHQ-9 measures, the client's other courses) and
the practice-local ``today``; the core's ``refresh_course_flags`` raises a
flag once, updates it, and closes it when it is no longer returned.

Sessions are counted the way the phase labels count them: by position among
the course's non-cancelled sessions in time order (IPT-B's engagement
session is session 0 and not counted).
"""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from practice.contributions import FlagSpec
from practice.extensions import db
from practice.models import Course, CourseClient, TherapySession

from .intake import PROBLEM_AREAS
from .models import IptMeasure
from .rules import ACUTE, KEYS, MAINTENANCE, PLUGIN, has_engagement_session, live_sessions
from .settings import IptSettings

MAINTENANCE_DISCUSS_DAYS = 14  # "discuss maintenance within 14 days" (the model)


class CourseView:
    """A course's sessions in IPT order, with local dates and delivered state."""

    def __init__(self, course: Course):
        self.course = course
        self.zone = ZoneInfo(course.timezone)
        live = live_sessions(course)
        if has_engagement_session(course):
            live = live[1:]
        self.sessions = live                      # ordinal k is sessions[k - 1]
        self.total = course.planned_sessions - (1 if has_engagement_session(course) else 0)
        self.ordinal = {s.number: i + 1 for i, s in enumerate(live)}

    def day(self, s: TherapySession) -> date:
        return s.starts_at.astimezone(self.zone).date()

    def at(self, k: int) -> TherapySession | None:
        return self.sessions[k - 1] if 0 < k <= len(self.sessions) else None

    @staticmethod
    def delivered(s: TherapySession) -> bool:
        return s.status == "attended" or any(p.attendance == "attended" for p in s.participants)

    def delivered_count(self) -> int:
        return sum(1 for s in self.sessions if self.delivered(s))

    def remaining(self) -> list[TherapySession]:
        return [s for s in self.sessions if s.status == "scheduled"]


def _spec(code: str, severity: str, message: str, due: date | None,
          audience: str = "all") -> FlagSpec:
    return FlagSpec(code=code, severity=severity, message=message, due_date=due,
                    plugin=PLUGIN, audience=audience)


def problem_area_missing(view: CourseView, today: date) -> FlagSpec | None:
    intake = (view.course.modality_data or {}).get("intake") or {}
    if intake.get("primary_problem_area") in PROBLEM_AREAS or view.delivered_count() < 3:
        return None
    fourth = view.at(4)
    high = view.delivered_count() >= 4 or (fourth is not None and view.day(fourth) <= today)
    return _spec("ipt.problem_area_missing", "high" if high else "warning",
                 "Session 3 is done and no primary problem area is recorded: agree it and "
                 "fill in the intake before session 4.",
                 view.day(fourth) if fourth else None, audience="clinical")


def termination_due(view: CourseView) -> FlagSpec | None:
    left = view.remaining()
    if not 1 <= len(left) <= 4:
        return None
    return _spec("ipt.termination_due", "info",
                 f"{len(left)} session{'s' if len(left) > 1 else ''} remain: discuss ending "
                 "and prepare the termination phase.", view.day(left[0]))


def _completed_on(view: CourseView) -> date:
    """The last delivered session's date (attendance may be recorded later)."""
    done = [view.day(s) for s in view.sessions if view.delivered(s)]
    if done:
        return max(done)
    c = view.course
    return c.closed_at.astimezone(view.zone).date() if c.closed_at else c.first_date


def maintenance_due(view: CourseView, today: date) -> FlagSpec | None:
    c = view.course
    if not c.client_ids:
        return None
    q = (select(CourseClient.client_id).join(Course, Course.id == CourseClient.course_id)
         .where(Course.modality == MAINTENANCE, Course.id != c.id,
                Course.first_date >= c.first_date,
                CourseClient.client_id.in_(c.client_ids)))
    followed = set(db.session.scalars(q))
    missing = [cid for cid in c.client_ids if cid not in followed]
    if not missing:
        return None
    due = _completed_on(view) + timedelta(days=MAINTENANCE_DISCUSS_DAYS)
    who = ("" if len(c.client_ids) == 1
           else f" for {len(missing)} of {len(c.client_ids)} clients")
    return _spec("ipt.maintenance_due", "high" if today > due else "warning",
                 f"The acute course is complete and no IPT-M course follows{who}: discuss "
                 f"maintenance by {due.isoformat()}.", due)


def maintenance_overdue(view: CourseView, today: date, s: IptSettings) -> FlagSpec | None:
    done = [view.day(x) for x in view.sessions if view.delivered(x)]
    if done:
        since = max(done)
    elif view.sessions:
        since = view.day(view.sessions[0])
    else:
        return None
    days = (today - since).days
    if days <= s.overdue_days:
        return None
    return _spec("ipt.maintenance_overdue", "high" if days > s.overdue_high_days else "warning",
                 f"No IPT-M session attended for {days} days (more than {s.overdue_days}): "
                 "see the client.", since + timedelta(days=s.overdue_days))


def due_ordinals(total: int, every: int) -> list[int]:
    """Sessions a PHQ-9 is due at: baseline, every ``every`` sessions, the last."""
    return sorted({1, total, *range(every, total + 1, every)}) if total > 0 else []


def _measured(view: CourseView, measures: list[IptMeasure]) -> list[int]:
    return [view.ordinal[m.session_number] for m in measures if m.session_number in view.ordinal]


def measure_due(view: CourseView, measures: list[IptMeasure], s: IptSettings
                ) -> FlagSpec | None:
    due = set(due_ordinals(view.total, s.measure_every))
    measured = _measured(view, measures)
    reached = [k for k, x in enumerate(view.sessions, 1) if k in due and view.delivered(x)]
    if reached and not any(m >= reached[-1] for m in measured):
        k = reached[-1]
        return _spec("ipt.measure_due", "warning",
                     f"The PHQ-9 due at session {k} was not recorded.", view.day(view.at(k)),
                     audience="clinical")
    left = view.remaining()
    if left:
        k = view.ordinal[left[0].number]
        if k in due and not any(m >= k for m in measured):
            return _spec("ipt.measure_due", "info", f"A PHQ-9 is due at session {k}.",
                         view.day(left[0]), audience="clinical")
    return None


def safety_review(view: CourseView, measures: list[IptMeasure]) -> FlagSpec | None:
    """The most recent PHQ-9 (in session order) decides: item 9 above 0 is high."""
    if not measures:
        return None
    starts = {x.number: x.starts_at for x in view.course.sessions}
    latest = max(measures, key=lambda m: (starts.get(m.session_number) is not None,
                                          starts.get(m.session_number), m.recorded_at))
    if latest.phq9_item9 <= 0:
        return None
    k = view.ordinal.get(latest.session_number, latest.session_number)
    return _spec("ipt.safety_review", "high",
                 f"PHQ-9 item 9 (thoughts of death or self-harm) was above 0 at session {k}: "
                 "review safety with the client.",
                 latest.recorded_at.astimezone(view.zone).date(), audience="clinician")


def course_flags(course: Course, today: date, s: IptSettings) -> list[FlagSpec]:
    """Every IPT flag that should be open on ``course`` on ``today``."""
    if course.modality not in KEYS or course.id is None:
        return []
    view = CourseView(course)
    measures = list(db.session.scalars(select(IptMeasure).where(IptMeasure.course_id == course.id)))
    found = [safety_review(view, measures)]
    if course.status == "active":
        if course.modality in ACUTE:
            found += [problem_area_missing(view, today), termination_due(view)]
        else:
            found.append(maintenance_overdue(view, today, s))
        found.append(measure_due(view, measures, s))
    elif course.status == "completed" and course.modality in ACUTE:
        found.append(maintenance_due(view, today))
    return [f for f in found if f is not None]
