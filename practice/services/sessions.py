"""The sessions in a date range, for calendars (``GET /api/sessions``).

A week of a busy practice is about a thousand sessions, so this reads with
Core statements, not ORM objects: one for the sessions with their course,
room and clients, one for the courses' other sessions ("session k of N"
numbers them in SQL), and, only when a plugin labels phases, one for the
courses that plugin owns. Nothing here loads per row.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, not_, or_, select, type_coerce
from sqlalchemy.orm import lazyload
from sqlalchemy.types import NullType

from ..extensions import db
from ..models.people import initials_of as initials
from ..models import Client, Course, Room, SessionParticipant, TherapySession, User
from ..models.courses import CANCELLED
from ..plugin_manager import hooks
from .calendar import practice_zone
from .modalities import enabled_modalities

S = TherapySession.__table__
C = Course.__table__
R = Room.__table__
P = SessionParticipant.__table__
CLI = Client.__table__

# No session lasts a day (the database refuses more than 12 hours), so a
# lower bound on ``starts_at`` keeps the scan on the (…, starts_at) indexes
# (ix_sessions_start, and migration 0004's covering clinician and room
# indexes) to the range instead of everything that started before it.
LONGEST_SESSION = timedelta(days=1)


def _raw(column, name: str):
    """The column as the driver returns it, skipping ``UTCDateTime``'s
    per-value processing (a thousand rows' worth was a third of the time)."""
    return type_coerce(column, NullType()).label(name)


def _aware(value) -> datetime:
    """A raw ``UTCDateTime`` value as an aware UTC datetime: SQLite gives
    naive UTC text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _window(clinician: bool, room: bool, site: bool):
    """The range filter, with bind parameters ``start``, ``end``,
    ``earliest`` and the filters' ids."""
    terms = [S.c.starts_at < bindparam("end"), S.c.starts_at > bindparam("earliest"),
             S.c.ends_at > bindparam("start")]
    if clinician:
        terms.append(S.c.clinician_id == bindparam("clinician_id"))
    if room:
        terms.append(S.c.room_id == bindparam("room_id"))
    if site:
        terms.append(R.c.site_id == bindparam("site_id"))
    return and_(*terms)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the local ``day`` begins (where DST starts at
    midnight, the day begins at the first local time that exists)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


@lru_cache(maxsize=16)
def _sessions_statement(clinician: bool, room: bool, site: bool):
    """The range's sessions, one row per (session, client); built once per
    shape of filters (see ``_window``)."""
    # A cancelled session keeps the clients it was booked for (their rows
    # are inactive then, to free their time); a live one shows who is in it.
    people = and_(P.c.session_id == S.c.id, or_(P.c.active, S.c.status.in_(CANCELLED)))
    joined = (S.join(C, C.c.id == S.c.course_id).join(R, R.c.id == S.c.room_id)
              .outerjoin(P, people).outerjoin(CLI, CLI.c.id == P.c.client_id))
    return (select(S.c.id, S.c.course_id, S.c.number, _raw(S.c.starts_at, "starts_at"),
                   _raw(S.c.ends_at, "ends_at"), S.c.room_id, R.c.site_id, S.c.clinician_id,
                   S.c.status, C.c.modality, C.c.planned_sessions,
                   CLI.c.id.label("client_id"), CLI.c.name.label("client_name"))
            .select_from(joined).where(_window(clinician, room, site))
            .order_by(S.c.starts_at, S.c.id, P.c.client_id))


@lru_cache(maxsize=16)
def _positions_statement(clinician: bool, room: bool, site: bool):
    """k of each counted session in the range, numbered by the database.

    ``models.courses.counted`` in SQL: a course's sessions that are not
    cancelled, and not a no-show whose place a make-up (``makes_up``, at
    any time, even after the range) has taken, numbered in time order. Only
    the range's own rows come back, not the ~10 earlier sessions of each
    course that numbering them reads (tests/test_sessions_api.py checks the
    answers against the course page's ``counted``).
    """
    in_range = select(S.c.course_id).where(_window(clinician, room, site))
    if site:
        in_range = in_range.select_from(S.join(R, R.c.id == S.c.room_id))
    m = S.alias("make_up")
    made_up = exists().where(m.c.course_id == S.c.course_id, m.c.makes_up == S.c.number)
    numbered = (select(S.c.id, S.c.starts_at, func.row_number().over(
                    partition_by=S.c.course_id, order_by=S.c.starts_at).label("k"))
                .where(S.c.course_id.in_(in_range), S.c.starts_at < bindparam("end"),
                       S.c.status.not_in(CANCELLED),
                       not_(and_(S.c.status == "no_show", made_up)))
                .subquery())
    return select(numbered.c.id, numbered.c.k).where(numbered.c.starts_at > bindparam("earliest"))


def positions(params: dict[str, Any], shape: tuple[bool, bool, bool]) -> dict[int, int]:
    """Session id -> k, "session k of N", by the courses' own rule
    (``models.courses.counted``, as ``course_view.positions`` and the feeds
    count), for the sessions of the range given by ``params`` and ``shape``."""
    return dict(db.session.execute(_positions_statement(*shape), params).all())


def _phase_labeller(modalities: set[str], course_ids: set[int]):
    """``phase(course_id, k, total)``, as ``course_view.session_dicts`` asks
    the ``practice_session_phase`` hook, memoised per (course, k).

    A course's hooks go to the plugin that declares its modality, so only
    courses of a plugin's modality are loaded (one statement, their
    relationships left lazy) and asked; the others have no phase.
    """
    hook = hooks().practice_session_phase
    owned = {key for key, m in enabled_modalities().items() if m.plugin not in (None, "core")}
    if not hook.get_hookimpls() or not (owned & modalities):
        return lambda course_id, k, total: None
    courses = {c.id: c for c in db.session.scalars(
        select(Course).options(lazyload("*"))
        .where(Course.id.in_(course_ids), Course.modality.in_(owned & modalities)))}
    memo: dict[tuple[int, int], str | None] = {}

    def phase(course_id: int, k: int | None, total: int) -> str | None:
        course = courses.get(course_id)
        if course is None or k is None:
            return None
        if (course_id, k) not in memo:
            memo[(course_id, k)] = hook(course=course, number=k, total=total)
        return memo[(course_id, k)]

    return phase


def _visible_filters(user: User, args: dict) -> dict[str, int] | None:
    """The id filters to apply, or None when the caller may see nothing
    (a clinician asking for another clinician's sessions)."""
    filters = {k: args[k] for k in ("clinician_id", "room_id", "site_id") if args.get(k)}
    if user.role == "clinician":
        own = user.clinician_id or 0
        if filters.get("clinician_id", own) != own:
            return None
        filters["clinician_id"] = own
    return filters


def calendar_sessions(user: User, args: dict) -> dict[str, Any]:
    """The sessions overlapping the local days ``date_from`` to ``date_to``
    (both included), cancelled ones too, in time order; a clinician's own
    only. Returns the list envelope ``{"items": [...], "total": N}``, cut
    to ``offset`` and ``limit`` when given."""
    zone = practice_zone()
    filters = _visible_filters(user, args)
    if filters is None:
        return {"items": [], "total": 0}
    start = local_midnight(args["date_from"], zone)
    end = local_midnight(args["date_to"] + timedelta(days=1), zone)
    shape = ("clinician_id" in filters, "room_id" in filters, "site_id" in filters)
    params = {"start": start, "end": end, "earliest": start - LONGEST_SESSION, **filters}
    items = _items(db.session.execute(_sessions_statement(*shape), params), zone)
    offset, limit = args.get("offset") or 0, args.get("limit")
    page = items[offset:offset + limit] if limit else items[offset:]
    if page:
        places = positions(params, shape)
        phase = _phase_labeller({i["modality"] for i in page}, {i["course_id"] for i in page})
        for i in page:
            i["position"] = k = places.get(i["id"])
            i["phase"] = phase(i["course_id"], k, i["count"])
    return {"items": page, "total": len(items)}


def _items(rows, zone: ZoneInfo) -> list[dict]:
    """One item per session from rows of (session, client), in their order."""
    local: dict[Any, str] = {}  # raw instant -> local RFC 3339; many sessions share one

    def stamp(raw) -> str:
        if raw not in local:
            local[raw] = _aware(raw).astimezone(zone).isoformat()
        return local[raw]

    items: list[dict] = []
    last_id = None
    # Unpacked, not read by attribute: a Row's attribute costs ~1 µs.
    for (sid, course_id, number, starts_at, ends_at, room_id, site_id, clinician_id, status,
         modality, planned, client_id, client_name) in rows:
        if sid != last_id:
            last_id = sid
            items.append({
                "id": sid, "course_id": course_id, "number": number,
                "position": None, "count": planned,
                "starts_at": stamp(starts_at), "ends_at": stamp(ends_at),
                "room_id": room_id, "site_id": site_id, "clinician_id": clinician_id,
                "status": status, "phase": None, "modality": modality, "clients": []})
        if client_id is not None:
            items[-1]["clients"].append({"id": client_id, "name": client_name,
                                         "initials": initials(client_name)})
    return items
