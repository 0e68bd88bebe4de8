"""Phase labels of IPT sessions, and the "session k of N" wording.

Acute IPT has three phases: ``initial`` (sessions 1-3: history, inventory,
problem area, formulation), ``middle`` (work on the problem area) and
``termination`` (the last 3 sessions, a practice setting of 2-4). IPT-M
sessions are all ``maintenance``. An IPT-B course booked with 9 sessions
begins with the engagement session, shown as session 0 of 8.
"""
from __future__ import annotations

from .rules import ACUTE, BRIEF_SESSIONS, MAINTENANCE

INITIAL_SESSIONS = 3


def acute_phase(number: int, total: int, termination: int) -> str:
    """Phase of session ``number`` (1-based) of ``total``.

    The initial phase wins over termination in a course too short for both;
    a session beyond ``total`` (a make-up of a missed week) is termination.
    """
    if number <= INITIAL_SESSIONS:
        return "initial"
    if number > total - termination:
        return "termination"
    return "middle"


def session_phase(modality: str, number: int, total: int, termination: int) -> str | None:
    """The label for position ``number`` of ``total`` planned, or None (not IPT)."""
    if modality == MAINTENANCE:
        return "maintenance"
    if modality not in ACUTE:
        return None
    if modality == "ipt-b" and total > BRIEF_SESSIONS:
        if number == 1:
            return "engagement"
        return acute_phase(number - 1, total - 1, termination)
    return acute_phase(number, total, termination)


def ordinal(modality: str, number: int, total: int) -> tuple[int, int]:
    """(k, N) for "session k of N": IPT-B's engagement session is 0 of 8."""
    if modality == "ipt-b" and total > BRIEF_SESSIONS:
        return number - 1, total - 1
    return number, total


def session_caption(modality: str, number: int, total: int, phase: str | None) -> str:
    k, n = ordinal(modality, number, total)
    return f"session {k} of {n}" + (f" ({phase})" if phase else "")
