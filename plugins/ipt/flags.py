"""Which IPT flags should be open on a course now.

Everything is computed from the course's real state (sessions and their
attendance, dates, intake, PHQ-9 measures and their history, the client's
other courses, maintenance decisions) and the practice-local ``today``; the
core's ``refresh_course_flags`` raises a flag once, updates it, and closes it
when it is no longer returned, except a held flag (the safety review), which
only a person's acknowledgement closes.

Sessions are counted the way the phase labels count them: by position among
the course's counted sessions in time order; IPT-B's engagement session is
session number 1 and not counted. "Delivered" means attended, everywhere; in
a group, a member's delivered sessions are those they attended.
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
from .phases import ENGAGEMENT_NUMBER, INITIAL_SESSIONS
from .rules import ACUTE, KEYS, MAINTENANCE, PLUGIN, has_engagement_session, live_sessions
from .settings import IptSettings

MAINTENANCE_DISCUSS_DAYS = 14  # "discuss maintenance within 14 days" (the model)
MISSED = ("no_show", "cancelled_by_client")


class CourseView:
    """A course's sessions in IPT order, with local dates and delivered state."""

    def __init__(self, course: Course):
        self.course = course
        self.zone = ZoneInfo(course.timezone)
        live = live_sessions(course)
        engagement = has_engagement_session(course)
        if engagement:
            live = [s for s in live if s.number != ENGAGEMENT_NUMBER]
        self.sessions = live                      # ordinal k is sessions[k - 1]
        self.total = course.planned_sessions - (1 if engagement else 0)
        self.ordinal = {s.number: i + 1 for i, s in enumerate(live)}
        self.group = len(course.client_ids) > 1

    def day(self, s: TherapySession) -> date:
        return s.starts_at.astimezone(self.zone).date()

    def at(self, k: int) -> TherapySession | None:
        return self.sessions[k - 1] if 0 < k <= len(self.sessions) else None

    @staticmethod
    def delivered(s: TherapySession, client_id: int | None = None) -> bool:
        """Attended (by ``client_id``, when given)."""
        if client_id is None:
            return s.status == "attended"
        return any(p.client_id == client_id and p.attendance == "attended"
                   for p in s.participants)

    def delivered_count(self, client_id: int | None = None) -> int:
        return sum(1 for s in self.sessions if self.delivered(s, client_id))

    def missed_count(self, client_id: int | None = None) -> int:
        """No-shows and sessions the client cancelled, in the whole course."""
        n = 0
        for s in self.course.sessions:
            if s.status == "cancelled_by_client":
                n += 1
            elif client_id is None:
                n += s.status == "no_show"
            else:
                n += any(p.client_id == client_id and p.attendance == "no_show"
                         for p in s.participants)
        return n

    def remaining(self) -> list[TherapySession]:
        return [s for s in self.sessions if s.status == "scheduled"]

    def members(self) -> list[int | None]:
        """Whom per-client flags are for: each member of a group; else None
        (one flag for the course's client)."""
        return list(self.course.client_ids) if self.group else [None]


def add_working_days(day: date, n: int) -> date:
    """``n`` working days (Monday-Friday) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _spec(code: str, severity: str, message: str, due: date | None,
          audience: str = "all", **kw) -> FlagSpec:
    return FlagSpec(code=code, severity=severity, message=message, due_date=due,
                    plugin=PLUGIN, audience=audience, **kw)


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


def maintenance_decisions(course: Course) -> dict[str, dict]:
    """Recorded maintenance decisions by client id (as text: JSON keys)."""
    return dict((course.modality_data or {}).get("maintenance") or {})


def maintenance_due(view: CourseView, today: date) -> FlagSpec | None:
    c = view.course
    if not c.client_ids:
        return None
    q = (select(CourseClient.client_id).join(Course, Course.id == CourseClient.course_id)
         .where(Course.modality == MAINTENANCE, Course.id != c.id,
                Course.first_date >= c.first_date,
                CourseClient.client_id.in_(c.client_ids)))
    followed = set(db.session.scalars(q))
    decided = maintenance_decisions(c)
    missing = [cid for cid in c.client_ids if cid not in followed and str(cid) not in decided]
    if not missing:
        return None
    due = _completed_on(view) + timedelta(days=MAINTENANCE_DISCUSS_DAYS)
    who = ("" if len(c.client_ids) == 1
           else f" for {len(missing)} of {len(c.client_ids)} clients")
    return _spec("ipt.maintenance_due", "high" if today > due else "warning",
                 f"The acute course is complete and no IPT-M course follows{who}: discuss "
                 f"maintenance by {due.isoformat()} and record the decision.", due)


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


def _live(measures: list[IptMeasure], client_id: int | None) -> list[IptMeasure]:
    return [m for m in measures if m.voided_at is None
            and (client_id is None or m.client_id == client_id)]


def measure_due(view: CourseView, measures: list[IptMeasure], s: IptSettings
                ) -> list[FlagSpec]:
    """One ``ipt.measure_due`` per missed due point (per member in a group),
    never hidden by a later measure; and the next one coming up."""
    due = set(due_ordinals(view.total, s.measure_every))
    out = []
    for cid in view.members():
        measured = {view.ordinal.get(m.session_number) for m in _live(measures, cid)}
        who = f" for client {cid}" if cid is not None else ""
        suffix = f":client:{cid}" if cid is not None else ""
        for k, x in enumerate(view.sessions, 1):
            if k not in due or k in measured:
                continue
            if view.delivered(x, cid):
                out.append(_spec("ipt.measure_due", "warning",
                                 f"The PHQ-9 due at session {k}{who} was not recorded.",
                                 view.day(x), audience="clinical", ref=f"measure_due:{k}{suffix}",
                                 client_id=cid))
        left = view.remaining()
        if left:
            k = view.ordinal[left[0].number]
            if k in due and k not in measured:
                out.append(_spec("ipt.measure_due", "info", f"A PHQ-9 is due at session {k}{who}.",
                                 view.day(left[0]), audience="clinical",
                                 ref=f"measure_due:{k}{suffix}", client_id=cid))
    return out


def safety_reviews(view: CourseView, measures: list[IptMeasure], today: date,
                   s: IptSettings) -> list[FlagSpec]:
    """One held ``ipt.safety_review`` for every entry or correction that set
    item 9 at or above the threshold (to a new value), whatever was recorded
    before or after it; voided or corrected measures keep theirs. Unacknowledged
    after ``safety_review_days`` working days it is ``ipt.safety_review_overdue``."""
    out = []
    for m in measures:
        before = None
        for v in m.versions:
            raised = v.phq9_item9 >= s.safety_threshold and v.phq9_item9 != before
            before = v.phq9_item9
            if not raised or v.action == "voided":
                continue
            k = view.ordinal.get(m.session_number)
            at = f"session {k}" if k is not None else f"session number {m.session_number}"
            who = f"client {m.client_id}" if m.client_id is not None else "the client"
            raised_on = v.recorded_at.astimezone(view.zone).date()
            due = add_working_days(raised_on, s.safety_review_days)
            overdue = today > due
            out.append(_spec(
                "ipt.safety_review_overdue" if overdue else "ipt.safety_review", "high",
                f"PHQ-9 item 9 (thoughts of death or self-harm) scored {v.phq9_item9} for "
                f"{who} at {at} (measure {m.id}): review safety with the client"
                + (f"; not acknowledged after {s.safety_review_days} working days." if overdue
                   else ", then acknowledge this review."),
                due, audience="clinical", ref=f"safety:{m.id}:{v.version}", held=True,
                client_id=m.client_id))
    return out


def no_response(view: CourseView, measures: list[IptMeasure], s: IptSettings
                ) -> list[FlagSpec]:
    """At the middle of the course, less than a ``no_response_percent`` drop
    from the baseline PHQ-9: consider another treatment or medication."""
    mid = (view.total + 1) // 2
    out = []
    for cid in view.members():
        rows = sorted(((view.ordinal[m.session_number], m) for m in _live(measures, cid)
                       if m.session_number in view.ordinal), key=lambda x: x[0])
        base = next((m for k, m in rows if k <= INITIAL_SESSIONS), None)
        later = next((m for k, m in rows if k >= mid), None)
        if base is None or later is None or base.phq9_total == 0:
            continue
        drop = (base.phq9_total - later.phq9_total) * 100 / base.phq9_total
        if drop >= s.no_response_percent:
            continue
        who = f" for client {cid}" if cid is not None else ""
        out.append(_spec("ipt.no_response", "warning",
                         f"The PHQ-9{who} fell less than {s.no_response_percent}% from baseline "
                         f"by the middle of the course (session {mid}): consider another "
                         "treatment or medication.", None, audience="clinical",
                         ref=f"no_response:{cid or 0}", client_id=cid))
    return out


def attendance(view: CourseView, s: IptSettings) -> list[FlagSpec]:
    """``attendance_missed`` missed sessions (no-show or cancelled by the
    client): renegotiate the contract. Raised once per course (per member)."""
    out = []
    for cid in view.members():
        n = view.missed_count(cid)
        if n < s.attendance_missed:
            continue
        who = f" by client {cid}" if cid is not None else ""
        out.append(_spec("ipt.attendance", "warning",
                         f"{n} sessions missed{who} (no-show or cancelled by the client): "
                         "review and renegotiate the contract.", None,
                         ref=f"attendance:{cid or 0}", client_id=cid))
    return out


def course_flags(course: Course, today: date, s: IptSettings) -> list[FlagSpec]:
    """Every IPT flag that should be open on ``course`` on ``today``."""
    if course.modality not in KEYS or course.id is None:
        return []
    view = CourseView(course)
    measures = list(db.session.scalars(select(IptMeasure).where(IptMeasure.course_id == course.id)
                                       .order_by(IptMeasure.id)))
    found: list[FlagSpec | None] = [*safety_reviews(view, measures, today, s)]
    if course.status == "active":
        if course.modality in ACUTE:
            found += [problem_area_missing(view, today), termination_due(view)]
            found += no_response(view, measures, s)
        else:
            found.append(maintenance_overdue(view, today, s))
        found += measure_due(view, measures, s)
        found += attendance(view, s)
    elif course.status == "completed" and course.modality in ACUTE:
        found.append(maintenance_due(view, today))
    return [f for f in found if f is not None]
