"""Phase labels of IPT sessions, and the "session k of N" wording.

Acute IPT has three phases: ``initial`` (sessions 1-3: history, inventory,
problem area, formulation; IPT-B 1-2, a setting), ``middle`` (work on the
problem area) and ``termination`` (the last 3 sessions, a setting of 2-4).
IPT-M sessions are all ``maintenance``. An IPT-B course booked with 9
sessions begins with the engagement session, session 0 of 8: it is the
session numbered 1, identified by that number, so cancelling it shifts no
later phase or due point.
"""
from __future__ import annotations

from .rules import ACUTE, MAINTENANCE, has_engagement_session

INITIAL_SESSIONS = 3
ENGAGEMENT_NUMBER = 1  # IPT-B's engagement session 0 is the course's session number 1


def acute_phase(number: int, total: int, termination: int,
                initial: int = INITIAL_SESSIONS) -> str:
    """Phase of session ``number`` (1-based) of ``total``.

    The initial phase wins over termination in a course too short for both;
    a session beyond ``total`` (a make-up of a missed week) is termination.
    """
    if number <= initial:
        return "initial"
    if number > total - termination:
        return "termination"
    return "middle"


def locate(course, position: int, total: int | None = None) -> tuple[bool, int, int]:
    """(is the engagement session, k, N) of the session at ``position`` among
    the course's counted sessions. Without stored sessions (a dry run) the
    position is the session number."""
    total = total if total is not None else course.planned_sessions
    if not has_engagement_session(course):
        return False, position, total
    counted = course.counted_sessions() if course.sessions else None
    if counted is None:
        number, engagement_counted = position, True
    else:
        number = counted[position - 1].number if 0 < position <= len(counted) else position
        engagement_counted = any(s.number == ENGAGEMENT_NUMBER for s in counted)
    if number == ENGAGEMENT_NUMBER:
        return True, 0, total - 1
    return False, position - (1 if engagement_counted else 0), total - 1


def session_phase(course, position: int, total: int, termination: int,
                  brief_initial: int) -> str | None:
    """The label of the session at ``position``, or None (not IPT)."""
    if course.modality == MAINTENANCE:
        return "maintenance"
    if course.modality not in ACUTE:
        return None
    engagement, k, n = locate(course, position, total)
    if engagement:
        return "engagement"
    initial = brief_initial if course.modality == "ipt-b" else INITIAL_SESSIONS
    return acute_phase(k, n, termination, initial)


def session_caption(course, position: int, phase: str | None) -> str:
    _, k, n = locate(course, position)
    return f"session {k} of {n}" + (f" ({phase})" if phase else "")
