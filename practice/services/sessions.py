"""The sessions in a date range, for calendars (``GET /api/sessions``).

A week of a busy practice is about a thousand sessions, so this reads with
Core statements, not ORM objects: one for the sessions with their course,
room and clients, one for the courses' other sessions ("session k of N"
counts them all), and, only when a plugin labels phases, one for the
courses that plugin owns. Nothing here loads per row.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..feeds.events import initials
from ..models import Client, Course, Room, SessionParticipant, TherapySession, User
from ..models.courses import CANCELLED, counted
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


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the local ``day`` begins (where DST starts at
    midnight, the day begins at the first local time that exists)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


@lru_cache(maxsize=16)
def _sessions_statement(clinician: bool, room: bool, site: bool):
    """The range's sessions, one row per (session, client); built once per
    shape of filters, with bind parameters ``start``, ``end``, ``earliest``
    and the filters' ids."""
    # A cancelled session keeps the clients it was booked for (their rows
    # are inactive then, to free their time); a live one shows who is in it.
    people = and_(P.c.session_id == S.c.id, or_(P.c.active, S.c.status.in_(CANCELLED)))
    joined = (S.join(C, C.c.id == S.c.course_id).join(R, R.c.id == S.c.room_id)
              .outerjoin(P, people).outerjoin(CLI, CLI.c.id == P.c.client_id))
    q = (select(S.c.id, S.c.course_id, S.c.number, S.c.starts_at, S.c.ends_at, S.c.room_id,
                R.c.site_id, S.c.clinician_id, S.c.status, C.c.modality, C.c.planned_sessions,
                CLI.c.id.label("client_id"), CLI.c.name.label("client_name"))
         .select_from(joined)
         .where(S.c.starts_at < bindparam("end"), S.c.starts_at > bindparam("earliest"),
                S.c.ends_at > bindparam("start"))
         .order_by(S.c.starts_at, S.c.id, P.c.client_id))
    if clinician:
        q = q.where(S.c.clinician_id == bindparam("clinician_id"))
    if room:
        q = q.where(S.c.room_id == bindparam("room_id"))
    if site:
        q = q.where(R.c.site_id == bindparam("site_id"))
    return q


@lru_cache(maxsize=1)
def _positions_statement():
    # What ``counted`` reads, for the courses in the range. A session's place
    # depends only on the counted sessions before it, and on which sessions
    # were made up: so later sessions are read only if they are make-ups.
    return (select(S.c.id, S.c.course_id, S.c.status, S.c.number, S.c.makes_up, S.c.starts_at)
            .where(S.c.course_id.in_(bindparam("course_ids", expanding=True)),
                   or_(S.c.starts_at < bindparam("end"), S.c.makes_up.is_not(None))))


def positions(course_ids: list[int], end: datetime) -> dict[int, int]:
    """Session id -> k, "session k of N", by the courses' own rule
    (``models.courses.counted``, as ``course_view.positions`` and the feeds
    count), for every session that starts before ``end``."""
    if not course_ids:
        return {}
    by_course: dict[int, list] = {}
    for row in db.session.execute(_positions_statement(),
                                  {"course_ids": course_ids, "end": end}):
        by_course.setdefault(row.course_id, []).append(row)
    return {r.id: k for rows in by_course.values()
            for k, r in enumerate(counted(rows), start=1)}


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
    statement = _sessions_statement("clinician_id" in filters, "room_id" in filters,
                                    "site_id" in filters)
    rows = db.session.execute(statement, {"start": start, "end": end,
                                          "earliest": start - LONGEST_SESSION, **filters})
    items: list[dict] = []
    last_id = None
    for r in rows:
        if r.id != last_id:
            last_id = r.id
            items.append({
                "id": r.id, "course_id": r.course_id, "number": r.number,
                "position": None, "count": r.planned_sessions,
                "starts_at": r.starts_at.astimezone(zone).isoformat(),
                "ends_at": r.ends_at.astimezone(zone).isoformat(),
                "room_id": r.room_id, "site_id": r.site_id, "clinician_id": r.clinician_id,
                "status": r.status, "phase": None, "modality": r.modality, "clients": []})
        if r.client_id is not None:
            items[-1]["clients"].append({"id": r.client_id, "name": r.client_name,
                                         "initials": initials(r.client_name)})
    offset, limit = args.get("offset") or 0, args.get("limit")
    page = items[offset:offset + limit] if limit else items[offset:]
    _add_positions(page, end)
    return {"items": page, "total": len(items)}


def _add_positions(items: list[dict], end: datetime) -> None:
    """Fill in each item's ``position`` (k) and ``phase``."""
    course_ids = sorted({i["course_id"] for i in items})
    places = positions(course_ids, end)
    phase = _phase_labeller({i["modality"] for i in items}, set(course_ids))
    for i in items:
        k = places.get(i["id"])
        i["position"] = k
        i["phase"] = phase(i["course_id"], k, i["count"])
