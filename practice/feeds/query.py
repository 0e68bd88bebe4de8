"""What a feed reads from the database: its window, its sessions, the names
that may appear, and a fingerprint of all of that.

The fingerprint is one aggregate query over what a feed body is built from
(counts, sums and the newest ``updated_at`` of the window's sessions, their
courses and the courses' clients, and of rooms and clinicians). Any
change that can alter the body changes the fingerprint, so a body cached
under it is never stale, in whichever worker it was built.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, select, true, type_coerce
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.types import NullType

from ..models import Client, Clinician, Course, CourseClient, Room, TherapySession
from ..models.courses import counted

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


# Core tables: feeds read thousands of rows, so they skip the ORM's row handling.
S = TherapySession.__table__
C = Course.__table__
R = Room.__table__
CL = Clinician.__table__
CC = CourseClient.__table__
CLI = Client.__table__


# No session lasts a day (the database refuses more than 12 hours), so a
# lower bound on ``starts_at`` lets the (owner, starts_at) index skip the
# owner's whole history before the window.
LONGEST_SESSION = timedelta(days=1)


def _in_window(kind: str, s=S):
    """The window filter, with bind parameters ``owner_id``, ``start``,
    ``end`` and ``earliest`` (see ``_params``)."""
    column = s.c.clinician_id if kind == "clinician" else s.c.room_id
    return and_(column == bindparam("owner_id"), s.c.starts_at < bindparam("end"),
                s.c.starts_at > bindparam("earliest"), s.c.ends_at > bindparam("start"))


def _params(owner: Owner, window: Window) -> dict[str, Any]:
    return {"owner_id": owner.id, "start": window.start, "end": window.end,
            "earliest": window.start - LONGEST_SESSION}


def _owner_table(kind: str):
    return CL if kind == "clinician" else R


def fingerprint(db: DBSession, owner: Owner, window: Window, *, names: bool,
                positions: bool) -> tuple[Any, ...]:
    """Everything a feed body depends on in the database, in one query.

    The window's sessions are read once (an index range scan); everything
    else is reached through the few courses they belong to, or is a small
    table read whole (rooms, clinicians), so no per-session join is needed.

    :param names: include the courses' clients (not needed for ``busy``).
    :param positions: include every session of the courses in the window
        (their order gives "session k of N" to the phase hook).
    """
    statement = _fingerprint_statement(owner.kind, names, positions)
    return tuple(db.execute(statement, _params(owner, window)).one())


@lru_cache(maxsize=16)
def _fingerprint_statement(kind: str, names: bool, positions: bool):
    # Built once per shape: constructing it costs more than running it.
    w = (select(S.c.id, S.c.course_id, S.c.updated_at, S.c.sequence)
         .where(_in_window(kind)).cte("w"))
    courses = select(w.c.course_id).distinct().cte("wc")
    # Sums and counts: any change to a session, to the set of sessions, or to
    # a course's clients moves at least one of them.
    parts = [select(func.count(), func.max(w.c.updated_at), func.sum(w.c.sequence),
                    func.sum(w.c.id))]
    joined = courses.join(C, C.c.id == courses.c.course_id)
    cols = [func.max(C.c.updated_at)]
    if names:
        joined = (joined.outerjoin(CC, CC.c.course_id == courses.c.course_id)
                  .outerjoin(CLI, CLI.c.id == CC.c.client_id))
        cols += [func.count(CC.c.client_id), func.sum(CC.c.client_id),
                 func.max(CLI.c.updated_at)]
    parts.append(select(*cols).select_from(joined))
    if positions:
        parts.append(select(func.count(S.c.id), func.max(S.c.updated_at), func.sum(S.c.sequence))
                     .where(S.c.course_id.in_(select(courses.c.course_id))))
    subqueries = [q.subquery() for q in parts]
    frm = subqueries[0]
    for sub in subqueries[1:]:
        frm = frm.join(sub, true())
    table = _owner_table(kind)
    small = [select(func.max(R.c.updated_at)).scalar_subquery(),  # room names
             select(table.c.updated_at).where(table.c.id == bindparam("owner_id"))
             .scalar_subquery()]
    if kind == "room":  # room feeds name the clinician
        small.append(select(func.max(CL.c.updated_at)).scalar_subquery())
    return select(*subqueries, *small).select_from(frm)


def _raw(column, name: str):
    """The column as the driver returns it, without the UTCDateTime processing."""
    return type_coerce(column, NullType()).label(name)


@dataclass(frozen=True, slots=True)
class FeedSession:
    """One session in the window with what its event may show."""

    row: Any  # the session's columns (see ``feed_sessions``)
    names: list[str]  # the course's clients' names
    group: bool  # a course of more than one client


def feed_sessions(db: DBSession, owner: Owner, window: Window, *,
                  names: bool) -> list[FeedSession]:
    """The sessions in the window, in time order, with their course's
    clients' names (when ``names``), from one query."""
    result = db.execute(_sessions_statement(owner.kind, names), _params(owner, window))
    out: list[FeedSession] = []
    current, clients = None, []
    for row in result:
        if current is None or row.id != current.id:
            if current is not None:
                out.append(FeedSession(current, clients, len(clients) > 1))
            current, clients = row, []
        if names and row.client_name is not None:
            clients.append(row.client_name)
    if current is not None:
        out.append(FeedSession(current, clients, len(clients) > 1))
    return out


@lru_cache(maxsize=8)
def _sessions_statement(kind: str, names: bool):
    # Only the start and end need to be datetimes (for local wall-clock time):
    # the stamps are written out in UTC as stored (``ical.utc_value`` takes
    # SQLite's text or PostgreSQL's datetime), skipping thousands of
    # conversions per feed.
    cols = [S.c.id, S.c.uid, S.c.sequence, S.c.starts_at, S.c.ends_at, S.c.status,
            _raw(S.c.created_at, "created_at"), _raw(S.c.updated_at, "updated_at"),
            S.c.course_id, _raw(C.c.updated_at, "course_updated_at"), C.c.modality, C.c.label,
            C.c.timezone, C.c.planned_sessions, R.c.name.label("room_name")]
    joined = S.join(C, C.c.id == S.c.course_id).join(R, R.c.id == S.c.room_id)
    if kind == "room":
        joined = joined.join(CL, CL.c.id == S.c.clinician_id)
        cols.append(CL.c.name.label("clinician_name"))
    order = [S.c.starts_at, S.c.id]
    if names:
        joined = (joined.outerjoin(CC, CC.c.course_id == S.c.course_id)
                  .outerjoin(CLI, CLI.c.id == CC.c.client_id))
        cols.append(CLI.c.name.label("client_name"))
        order.append(CC.c.client_id)
    return select(*cols).select_from(joined).where(_in_window(kind)).order_by(*order)


def live_positions(db: DBSession, owner: Owner, window: Window) -> dict[int, int]:
    """session id -> its 1-based place among its course's counted sessions in
    time order, as ``Course.counted_sessions`` counts them: cancelled sessions,
    and missed ones whose place a make-up took, have none."""
    course_ids = select(S.c.course_id).where(_in_window(owner.kind))
    q = (select(S.c.id, S.c.course_id, S.c.status, S.c.number, S.c.makes_up, S.c.starts_at)
         .where(S.c.course_id.in_(course_ids)))
    by_course: dict[int, list] = {}
    for row in db.execute(q, _params(owner, window)):
        by_course.setdefault(row.course_id, []).append(row)
    return {r.id: k for rows in by_course.values()
            for k, r in enumerate(counted(rows), start=1)}


def owner_name(db: DBSession, owner: Owner) -> str | None:
    table = _owner_table(owner.kind)
    return db.scalar(select(table.c.name).where(table.c.id == owner.id))
