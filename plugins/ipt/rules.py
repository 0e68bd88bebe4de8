"""The IPT contract: the five modalities, their bounds, and the rules the
plugin adds to booking, extension, rescheduling, make-ups and closing.

Bounds a booking can break (session count, interval, duration, clients) are
declared on the ``Modality`` and checked by the core, which names the rule
``ipt.<bound>`` and the plugin ``ipt``. Here live only the rules the core
cannot know: the renegotiated extension, make-ups, ``ended_early``, and a few
warnings.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from practice.contributions import BookingDraft, Modality, Verdict, violation, warning
from practice.extensions import db
from practice.models import Course, CourseClient, TherapySession

from .settings import IptSettings

PLUGIN = "ipt"
ACUTE = ("ipt", "ipt-a", "ipt-b", "ipt-g")
MAINTENANCE = "ipt-m"
KEYS = (*ACUTE, MAINTENANCE)

IPT_MAX = 16            # beyond this an ``ipt`` course is renegotiated ...
IPT_EXTENDED_MAX = 20   # ... up to this, never further
BRIEF_SESSIONS = 8      # IPT-B; a 9th booked session is the engagement session 0
MAINTENANCE_INTERVAL = 4
MAINTENANCE_MIN_MONTHS = 6


def maintenance_sessions(months: int) -> int:
    """Monthly-ish sessions (every 4 weeks) that fit in ``months`` months."""
    return months * 52 // (12 * MAINTENANCE_INTERVAL)


def modalities(s: IptSettings) -> list[Modality]:
    """The five IPT modalities, with bounds from the model and the settings."""
    maint_max = maintenance_sessions(s.maintenance_months)
    return [
        Modality(key="ipt", label="IPT (acute, depression)", min_sessions=12,
                 max_sessions=IPT_MAX, default_sessions=16, default_interval_weeks=1,
                 allowed_intervals=(1,), min_duration=45, max_duration=60,
                 default_duration=50, min_clients=1, max_clients=1,
                 max_extended_sessions=IPT_EXTENDED_MAX,
                 description="12-16 weekly individual sessions; extending beyond 16 is a "
                             "renegotiation that needs a reason, up to 20."),
        Modality(key="ipt-a", label="IPT-A (adolescents)", min_sessions=12, max_sessions=12,
                 default_sessions=12, default_interval_weeks=1, allowed_intervals=(1,),
                 min_duration=35, max_duration=50, default_duration=45, min_clients=1,
                 max_clients=1, description="12 weekly individual sessions of 35-50 minutes."),
        Modality(key="ipt-b", label="IPT-B (brief)", min_sessions=BRIEF_SESSIONS,
                 max_sessions=BRIEF_SESSIONS + 1, default_sessions=BRIEF_SESSIONS,
                 default_interval_weeks=1, allowed_intervals=(1,), min_duration=45,
                 max_duration=60, default_duration=50, min_clients=1, max_clients=1,
                 description="8 weekly sessions; book 9 to add the optional engagement "
                             "session 0 before them."),
        Modality(key="ipt-g", label="IPT-G (group)", min_sessions=16, max_sessions=16,
                 default_sessions=16, default_interval_weeks=1, allowed_intervals=(1,),
                 min_duration=90, max_duration=90, default_duration=90, min_clients=2,
                 max_clients=None, description="16 weekly 90-minute group sessions, "
                                               "2 or more clients (up to the room's capacity)."),
        Modality(key=MAINTENANCE, label="IPT-M (maintenance)",
                 min_sessions=maintenance_sessions(MAINTENANCE_MIN_MONTHS),
                 max_sessions=maint_max, default_sessions=maint_max,
                 default_interval_weeks=MAINTENANCE_INTERVAL,
                 allowed_intervals=(MAINTENANCE_INTERVAL,), min_duration=45, max_duration=60,
                 default_duration=50, min_clients=1, max_clients=1,
                 description=f"A session every 4 weeks for {MAINTENANCE_MIN_MONTHS}-"
                             f"{s.maintenance_months} months."),
    ]


def has_engagement_session(course: Course) -> bool:
    """An IPT-B course booked with 9 sessions starts with engagement session 0."""
    return course.modality == "ipt-b" and course.planned_sessions > BRIEF_SESSIONS


def live_sessions(course: Course) -> list[TherapySession]:
    """Delivered or scheduled sessions in time order, as "session k of N"
    counts them (a missed session that was made up gives way to its make-up)."""
    return course.counted_sessions()


# -- checks --------------------------------------------------------------------
def _other_courses(client_ids: list[int], exclude: int | None = None) -> list[Course]:
    if not client_ids:
        return []
    q = (select(Course).join(CourseClient, CourseClient.course_id == Course.id)
         .where(CourseClient.client_id.in_(client_ids), Course.modality.in_(KEYS)))
    if exclude is not None:
        q = q.where(Course.id != exclude)
    return list(db.session.scalars(q).unique())


def check_booking(draft: BookingDraft, modality: Modality) -> list[Verdict]:
    """Warnings only: a second acute course at once, maintenance with no acute."""
    if modality.key not in KEYS:
        return []
    others = _other_courses(draft.client_ids, exclude=draft.course_id)
    out = []
    if modality.key in ACUTE and any(c.status == "active" and c.modality in ACUTE
                                     for c in others):
        out.append(warning("ipt.concurrent_course",
                           "A client of this booking already has an active acute IPT "
                           "course; IPT works on one contract at a time.",
                           field="client_ids", plugin=PLUGIN))
    if modality.key == MAINTENANCE and not any(c.modality in ACUTE and c.status == "completed"
                                               for c in others):
        out.append(warning("ipt.maintenance_without_acute",
                           "IPT-M usually follows a completed acute IPT course; none is "
                           "recorded for this client.", field="client_ids", plugin=PLUGIN))
    return out


def check_extension(course: Course, modality: Modality, added: int, new_total: int,
                    reason: str | None) -> list[Verdict]:
    """Beyond 16 sessions an ``ipt`` contract is renegotiated: a reason is needed.

    The cap (20) is the modality's ``max_extended_sessions``, which the core
    enforces as ``ipt.session_count``.
    """
    if modality.key != "ipt" or new_total <= IPT_MAX:
        return []
    if reason is None or not reason.strip():
        return [violation("ipt.extension_reason",
                          f"Extending an IPT course beyond {IPT_MAX} sessions renegotiates "
                          "the contract: give the reason.", field="reason", plugin=PLUGIN)]
    return []


def check_reschedule(course: Course, session: TherapySession, changes: list[dict],
                     scope: str) -> list[Verdict]:
    """Warn when a move puts two sessions of a weekly IPT course within 4 days."""
    if course.modality not in ACUTE:
        return []
    moved = {c["number"]: c for c in changes}
    starts = sorted(moved[s.number]["starts_at"] if s.number in moved else s.starts_at
                    for s in course.sessions if not s.cancelled)
    if any(b - a < timedelta(days=4) for a, b in zip(starts, starts[1:])):
        return [warning("ipt.weekly_rhythm",
                        "After this move two sessions fall within 4 days of each other; "
                        "IPT keeps a weekly rhythm.", plugin=PLUGIN)]
    return []


def made_up_count(course: Course) -> int:
    return sum(1 for s in course.sessions if s.is_make_up)


def make_up_policy(course: Course, session: TherapySession, requested: bool | None,
                   s: IptSettings) -> bool | None:
    """IPT makes up a cancelled or missed session unless told not to, up to
    ``make_up_limit`` make-ups per course (*setting*); beyond it the contract
    is renegotiated (``ipt.attendance``), not stretched. IPT-B's optional
    engagement session is not made up."""
    if course.modality not in KEYS:
        return None
    if requested is False or made_up_count(course) >= s.make_up_limit:
        return False
    if has_engagement_session(course) and session.number == 1:
        return False
    return True


IPT_MINIMUM = 12  # "fewer than 12 delivered sessions ends early" (SPEC 8; acute IPT 12-16)


def delivered_acute(course: Course) -> int:
    """Attended sessions, without IPT-B's engagement session 0."""
    return sum(1 for s in course.sessions if s.status == "attended"
               and not (has_engagement_session(course) and s.number == 1))


def minimum_delivered(course: Course, modalities_by_key: dict[str, Modality]) -> int:
    """12, or the modality's own minimum when it is smaller (IPT-B: 8)."""
    m = modalities_by_key.get(course.modality)
    return min(IPT_MINIMUM, m.min_sessions if m else IPT_MINIMUM)


def close_status(course: Course, modalities_by_key: dict[str, Modality]) -> str | None:
    """An acute course that ends (closed, or its last session attended) with
    fewer delivered (attended) sessions than the minimum ends early."""
    if course.modality not in ACUTE:
        return None
    return ("ended_early" if delivered_acute(course) < minimum_delivered(course, modalities_by_key)
            else "completed")
