"""What a feed reads from the database: its window, its sessions, the names
that may appear, and a fingerprint of all of that.

The fingerprint is one aggregate query over exactly the rows a feed body is
built from (counts, sums and the newest ``updated_at`` of sessions, courses,
rooms, clinicians, participants and clients in the window). Any
change that can alter the body changes the fingerprint, so a body cached
under it is never stale, in whichever worker it was built.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import Session as DBSession
from sqlalchemy.types import NullType

from ..models import Client, Clinician, Course, Room, SessionParticipant, TherapySession
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


# Core tables: feeds read thousands of rows, so they skip the ORM's row handling.
S = TherapySession.__table__
C = Course.__table__
R = Room.__table__
CL = Clinician.__table__
P = SessionParticipant.__table__
CLI = Client.__table__


# No session lasts a day (the database refuses more than 12 hours), so a
# lower bound on ``starts_at`` lets the (owner, starts_at) index skip the
# owner's whole history before the window.
LONGEST_SESSION = timedelta(days=1)


def _in_window(owner: Owner, window: Window, s=S):
    column = s.c.clinician_id if owner.kind == "clinician" else s.c.room_id
    return and_(column == owner.id, s.c.starts_at < window.end,
                s.c.starts_at > window.start - LONGEST_SESSION, s.c.ends_at > window.start)


def _owner_table(owner: Owner):
    return CL if owner.kind == "clinician" else R


def fingerprint(db: DBSession, owner: Owner, window: Window, *, names: bool,
                positions: bool) -> tuple[Any, ...]:
    """Everything a feed body depends on in the database, in one query and
    one pass over the window's sessions (and their participants).

    :param names: include participants and clients (not needed for ``busy``).
    :param positions: include every session of the courses in the window
        (their order gives "session k of N" to the phase hook).
    """
    where = _in_window(owner, window)
    joined = S.join(C, C.c.id == S.c.course_id).join(R, R.c.id == S.c.room_id)
    # Sums and counts over the joined rows: any change to a session, to the
    # set of sessions or of participants moves at least one of them.
    cols = [func.count(), func.max(S.c.updated_at), func.sum(S.c.sequence), func.sum(S.c.id),
            func.max(C.c.updated_at), func.max(R.c.updated_at)]
    if owner.kind == "room":  # room feeds name the clinician
        joined = joined.join(CL, CL.c.id == S.c.clinician_id)
        cols.append(func.max(CL.c.updated_at))
    if names:
        joined = (joined.outerjoin(P, P.c.session_id == S.c.id)
                  .outerjoin(CLI, CLI.c.id == P.c.client_id))
        cols += [func.count(P.c.id), func.sum(P.c.client_id),
                 func.sum(case((P.c.active, 1), else_=0)), func.max(CLI.c.updated_at)]
    table = _owner_table(owner)
    cols.append(select(table.c.updated_at).where(table.c.id == owner.id).scalar_subquery())
    if positions:
        other = S.alias("other")
        course_ids = select(S.c.course_id).where(where)
        for agg in (func.count(), func.max(other.c.updated_at), func.sum(other.c.sequence)):
            cols.append(select(agg).where(other.c.course_id.in_(course_ids)).scalar_subquery())
    return tuple(db.execute(select(*cols).select_from(joined).where(where)).one())


def _raw(column, name: str):
    """The column as the driver returns it, without the UTCDateTime processing."""
    return type_coerce(column, NullType()).label(name)


@dataclass(frozen=True, slots=True)
class FeedSession:
    """One session in the window with what its event may show."""

    row: Any  # the session's columns (see ``feed_sessions``)
    names: list[str]  # its clients' names: the active participants, else all
    group: bool  # more than one client


def feed_sessions(db: DBSession, owner: Owner, window: Window, *,
                  names: bool) -> list[FeedSession]:
    """The sessions in the window, in time order, with their clients' names
    (when ``names``), from one query."""
    # Only the start and end need to be datetimes (for local wall-clock time):
    # the stamps are written out in UTC as stored (``ical.utc_value`` takes
    # SQLite's text or PostgreSQL's datetime), skipping thousands of
    # conversions per feed.
    cols = [S.c.id, S.c.uid, S.c.sequence, S.c.starts_at, S.c.ends_at, S.c.status,
            _raw(S.c.created_at, "created_at"), _raw(S.c.updated_at, "updated_at"),
            S.c.course_id, _raw(C.c.updated_at, "course_updated_at"), C.c.modality, C.c.label,
            C.c.timezone, C.c.planned_sessions, R.c.name.label("room_name")]
    joined = S.join(C, C.c.id == S.c.course_id).join(R, R.c.id == S.c.room_id)
    if owner.kind == "room":
        joined = joined.join(CL, CL.c.id == S.c.clinician_id)
        cols.append(CL.c.name.label("clinician_name"))
    order = [S.c.starts_at, S.c.id]
    if names:
        joined = (joined.outerjoin(P, P.c.session_id == S.c.id)
                  .outerjoin(CLI, CLI.c.id == P.c.client_id))
        cols += [CLI.c.name.label("client_name"), P.c.active.label("client_active")]
        order.append(P.c.client_id)
    result = db.execute(select(*cols).select_from(joined)
                        .where(_in_window(owner, window)).order_by(*order))
    out: list[FeedSession] = []
    current, active, everyone = None, [], []

    def flush() -> None:
        if current is not None:
            out.append(FeedSession(current, active or everyone, len(everyone) > 1))

    for row in result:
        if current is None or row.id != current.id:
            flush()
            current, active, everyone = row, [], []
        if names and row.client_name is not None:
            everyone.append(row.client_name)
            if row.client_active:
                active.append(row.client_name)
    flush()
    return out


def live_positions(db: DBSession, owner: Owner, window: Window) -> dict[int, int]:
    """session id -> its 1-based place among its course's non-cancelled
    sessions in time order (cancelled sessions have none)."""
    course_ids = select(S.c.course_id).where(_in_window(owner, window))
    q = (select(S.c.id, S.c.course_id, S.c.status).where(S.c.course_id.in_(course_ids))
         .order_by(S.c.course_id, S.c.starts_at, S.c.id))
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
    table = _owner_table(owner)
    return db.scalar(select(table.c.name).where(table.c.id == owner.id))
