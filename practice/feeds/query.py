"""What a feed reads from the database: its window, its sessions, the names
that may appear, and a fingerprint of all of that.

The fingerprint is one cheap aggregate query over exactly the rows a feed
body is built from (counts, sums and the newest ``updated_at`` of sessions,
courses, rooms, clinicians, participants and clients in the window). Any
change that can alter the body changes the fingerprint, so a body cached
under it is never stale, in whichever worker it was built.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session as DBSession

from ..models import (Client, Clinician, Course, CourseClient, Room, SessionParticipant,
                      TherapySession)
from ..models.courses import CANCELLED

DAYS_BACK = 30
MONTHS_AHEAD = 12


@dataclass(frozen=True)
class Owner:
    """Whose feed: a clinician's or a room's."""

    kind: Literal["clinician", "room"]
    id: int


@dataclass(frozen=True)
class Window:
    """The sessions a feed shows: those overlapping [start, end)."""

    start: datetime  # aware UTC
    end: datetime
    first_day: date  # practice-local dates, for the VTIMEZONE's span
    last_day: date


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # 29 February plus a year (or the 31st plus a month) ends the shorter month.
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover (28 always exists)


def feed_window(today: date, tz: ZoneInfo) -> Window:
    """From local midnight 30 days before ``today`` to the end of the same
    calendar day 12 months ahead, in the practice's zone."""
    first = today - timedelta(days=DAYS_BACK)
    last = add_months(today, MONTHS_AHEAD)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return Window(start=start, end=end, first_day=first, last_day=last)


def _in_window(owner: Owner, window: Window, s=TherapySession):
    column = s.clinician_id if owner.kind == "clinician" else s.room_id
    return and_(column == owner.id, s.starts_at < window.end, s.ends_at > window.start)


def fingerprint(db: DBSession, owner: Owner, window: Window, *, names: bool,
                positions: bool) -> tuple[Any, ...]:
    """Everything a feed body depends on in the database, in one round trip.

    :param names: include participants and clients (not needed for ``busy``).
    :param positions: include every session of the courses in the window
        (their order gives "session k of N" to the phase hook).
    """
    s, c, r, cl = TherapySession, Course, Room, Clinician
    where = _in_window(owner, window)
    parts = [select(func.count(s.id), func.max(s.updated_at), func.sum(s.sequence),
                    func.sum(s.id), func.max(c.updated_at), func.max(r.updated_at),
                    func.max(cl.updated_at))
             .select_from(s).join(c, c.id == s.course_id).join(r, r.id == s.room_id)
             .join(cl, cl.id == s.clinician_id).where(where)]
    owner_model = Clinician if owner.kind == "clinician" else Room
    parts.append(select(owner_model.updated_at).where(owner_model.id == owner.id))
    course_ids = select(s.course_id).where(where)
    if names:
        p, cc = SessionParticipant, CourseClient
        parts.append(select(func.count(p.id), func.sum(p.client_id),
                            func.sum(case((p.active, 1), else_=0)),
                            func.max(Client.updated_at))
                     .select_from(p).join(s, s.id == p.session_id)
                     .join(Client, Client.id == p.client_id).where(where))
        parts.append(select(func.count(), func.sum(cc.client_id))
                     .where(cc.course_id.in_(course_ids)))
    if positions:
        other = TherapySession.__table__.alias("other")
        parts.append(select(func.count(other.c.id), func.max(other.c.updated_at),
                            func.sum(other.c.sequence))
                     .where(other.c.course_id.in_(course_ids)))
    # One-row subqueries joined on TRUE: a single round trip, a single row.
    subqueries = [q.subquery() for q in parts]
    joined = subqueries[0]
    for sub in subqueries[1:]:
        joined = joined.join(sub, true())
    row = db.execute(select(*subqueries).select_from(joined)).one()
    return tuple(row)


def session_rows(db: DBSession, owner: Owner, window: Window) -> list[Any]:
    """The sessions in the window with what an event shows, in time order."""
    s, c, r, cl = TherapySession, Course, Room, Clinician
    q = (select(s.id, s.uid, s.sequence, s.starts_at, s.ends_at, s.status, s.created_at,
                s.updated_at, s.course_id, c.updated_at.label("course_updated_at"),
                c.modality, r.name.label("room_name"), c.label,
                c.timezone, c.planned_sessions, cl.name.label("clinician_name"))
         .select_from(s).join(c, c.id == s.course_id).join(r, r.id == s.room_id)
         .join(cl, cl.id == s.clinician_id)
         .where(_in_window(owner, window)).order_by(s.starts_at, s.id))
    return list(db.execute(q))


def participant_names(db: DBSession, owner: Owner, window: Window) -> dict[int, list[str]]:
    """session id -> names of its clients (active participants first choice)."""
    p = SessionParticipant
    q = (select(p.session_id, Client.name, p.active).select_from(p)
         .join(TherapySession, TherapySession.id == p.session_id)
         .join(Client, Client.id == p.client_id)
         .where(_in_window(owner, window)).order_by(p.session_id, p.client_id))
    active: dict[int, list[str]] = {}
    everyone: dict[int, list[str]] = {}
    for session_id, name, is_active in db.execute(q):
        everyone.setdefault(session_id, []).append(name)
        if is_active:
            active.setdefault(session_id, []).append(name)
    # A session whose only client is marked inactive still belongs to them.
    return {sid: active.get(sid) or names for sid, names in everyone.items()}


def course_sizes(db: DBSession, owner: Owner, window: Window) -> dict[int, int]:
    """course id -> number of clients, for the courses in the window."""
    cc = CourseClient
    course_ids = select(TherapySession.course_id).where(_in_window(owner, window))
    q = (select(cc.course_id, func.count()).where(cc.course_id.in_(course_ids))
         .group_by(cc.course_id))
    return {course_id: n for course_id, n in db.execute(q)}


def live_positions(db: DBSession, owner: Owner, window: Window) -> dict[int, int]:
    """session id -> its 1-based place among its course's non-cancelled
    sessions in time order (cancelled sessions have none)."""
    s = TherapySession
    course_ids = select(s.course_id).where(_in_window(owner, window))
    q = (select(s.id, s.course_id, s.status).where(s.course_id.in_(course_ids))
         .order_by(s.course_id, s.starts_at, s.id))
    positions: dict[int, int] = {}
    current, k = None, 0
    for session_id, course_id, status in db.execute(q):
        if course_id != current:
            current, k = course_id, 0
        if status in CANCELLED:
            continue
        k += 1
        positions[session_id] = k
    return positions


def owner_name(db: DBSession, owner: Owner) -> str | None:
    model = Clinician if owner.kind == "clinician" else Room
    return db.scalar(select(model.name).where(model.id == owner.id))
