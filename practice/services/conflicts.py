"""Conflict detection against the database, and suggestions for a 409.

The database has the last word (exclusion constraints / triggers); this
module makes the 409 answer rich: every clashing occurrence, what it clashes
with, and a free room at the same time or the nearest free start that day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select

from ..extensions import db
from ..models import Clinician, Room, SessionParticipant, TherapySession
from ..models.courses import CANCELLED
from ..scheduling.availability import nearest_free_starts
from ..scheduling.daymask import BusyIndex, span
from ..scheduling.timeutil import from_minutes, local_instant


@dataclass
class Proposed:
    """A would-be session: number, interval, room (clinician and clients are
    the same for the whole request)."""

    number: int
    starts_at: datetime
    ends_at: datetime
    room_id: int
    session_id: int | None = None


@dataclass
class Existing:
    session_id: int
    course_id: int
    number: int
    starts_at: datetime
    ends_at: datetime
    room_id: int
    clinician_id: int
    client_id: int | None = None


@dataclass
class ConflictReport:
    conflicts: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.conflicts)


def _live(status=TherapySession.status):
    """Not cancelled (``status``: the ORM attribute, or the table's column)."""
    return status.not_in(CANCELLED)


# No session lasts a day (the application caps durations at 240 minutes and
# the SQLite guard at 12 hours), so "starts less than a day before the
# interval" bounds every overlap test below: an index on (owner, starts_at)
# then reads a day's range per interval instead of everything before it.
SPAN_BOUND = timedelta(days=1)


def _overlaps(col_start, col_end, p: Proposed):
    return and_(col_start < p.ends_at, col_start > p.starts_at - SPAN_BOUND,
                col_end > p.starts_at)


def _overlaps_any(col_start, col_end, proposed: list[Proposed]):
    return or_(*(_overlaps(col_start, col_end, p) for p in proposed))


MAX_OR_TERMS = 40


@lru_cache(maxsize=128)
def _existing_statements(n: int, clients: int):
    """The two pre-check queries for ``n`` occurrences and ``clients`` clients
    (``n`` 0: one range over a long series), built once per shape with bound
    parameters: building hundreds of comparisons per request cost more than
    running them.

    Each OR term is (owner = x AND overlaps occurrence i): one index range
    scan on (owner, starts_at), which SQLite (OR-by-union) and PostgreSQL
    (BitmapOr) both plan as such; a single OR of intervals beside an OR of
    owners made them read every session in the series' span.
    """
    # Table columns, not ORM attributes: the same SQL, run as Core (plain
    # rows) instead of through the ORM's loading, about half the Python cost.
    S, P = TherapySession.__table__.c, SessionParticipant.__table__.c
    cols = (S.id, S.course_id, S.number, S.starts_at, S.ends_at, S.room_id, S.clinician_id)

    def overlaps(col_start, col_end, i):
        return and_(col_start < bindparam(f"b{i}"), col_start > bindparam(f"lo{i}"),
                    col_end > bindparam(f"a{i}"))

    if n:
        own = [and_(S.clinician_id == bindparam("clinician"), overlaps(S.starts_at, S.ends_at, i))
               for i in range(n)]
        own += [and_(S.room_id == bindparam(f"room{i}"), overlaps(S.starts_at, S.ends_at, i))
                for i in range(n)]
        theirs = [and_(P.client_id == bindparam(f"client{j}"),
                       overlaps(P.starts_at, P.ends_at, i))
                  for j in range(clients) for i in range(n)]
    else:  # each owner's whole span, filtered in Python afterwards
        span = overlaps(S.starts_at, S.ends_at, 0)
        own = [and_(S.clinician_id == bindparam("clinician"), span),
               and_(S.room_id.in_(bindparam("rooms", expanding=True)), span)]
        theirs = [and_(P.client_id.in_(bindparam("clients", expanding=True)),
                       overlaps(P.starts_at, P.ends_at, 0))]
    sessions = select(*cols).where(_live(S.status), or_(*own)).order_by(S.starts_at, S.id)
    participants = (select(*cols, P.client_id)
                    .select_from(TherapySession.__table__.join(
                        SessionParticipant.__table__, P.session_id == S.id))
                    .where(P.active, or_(*theirs)).order_by(P.starts_at, S.id, P.client_id))
    return sessions, participants


def load_existing(clinician_id: int, room_ids: set[int], client_ids: list[int],
                  proposed: list[Proposed], exclude_ids: set[int]) -> dict[str, list[Existing]]:
    """Live sessions that overlap any proposed interval, by kind."""
    params: dict = {"clinician": clinician_id}
    if len(proposed) <= MAX_OR_TERMS:
        shape = proposed
        for i, p in enumerate(proposed):
            params[f"room{i}"] = p.room_id
        for j, cid in enumerate(client_ids):
            params[f"client{j}"] = cid
    else:
        shape = [Proposed(0, min(p.starts_at for p in proposed),
                          max(p.ends_at for p in proposed), 0)]
        params.update(rooms=sorted(room_ids), clients=list(client_ids))
    for i, p in enumerate(shape):
        params.update({f"a{i}": p.starts_at, f"b{i}": p.ends_at,
                       f"lo{i}": p.starts_at - SPAN_BOUND})
    n = len(proposed) if len(proposed) <= MAX_OR_TERMS else 0
    sessions, participants = _existing_statements(n, len(client_ids) if n else 0)
    # Core statements skip the ORM's autoflush: flush as it would have, so
    # the queries see this transaction's pending changes (a cancellation).
    session = db.session()
    if session.autoflush:
        session.flush()
    out: dict[str, list[Existing]] = {"clinician": [], "room": [], "client": []}
    for r in db.session.execute(sessions, params).all():
        if r.id in exclude_ids:
            continue
        e = Existing(r.id, r.course_id, r.number, r.starts_at, r.ends_at, r.room_id, r.clinician_id)
        if r.clinician_id == clinician_id:
            out["clinician"].append(e)
        if r.room_id in room_ids:
            out["room"].append(e)
    if client_ids:
        for r in db.session.execute(participants, params).all():
            if r.id in exclude_ids:
                continue
            out["client"].append(Existing(r.id, r.course_id, r.number, r.starts_at, r.ends_at,
                                          r.room_id, r.clinician_id, r.client_id))
    return out


def _session_ref(e: Existing, zone: ZoneInfo) -> dict:
    return {"session_id": e.session_id, "course_id": e.course_id, "number": e.number,
            "starts_at": e.starts_at.astimezone(zone).isoformat(),
            "ends_at": e.ends_at.astimezone(zone).isoformat()}


def find_conflicts(*, clinician_id: int, client_ids: list[int], proposed: list[Proposed],
                   zone: ZoneInfo, exclude_ids: set[int] = frozenset(),
                   suggest: bool = True, min_capacity: int = 1) -> ConflictReport:
    """Every proposed occurrence that clashes, with what it clashes with."""
    report = ConflictReport()
    if not proposed:
        return report
    room_ids = {p.room_id for p in proposed}
    existing = load_existing(clinician_id, room_ids, client_ids, proposed, set(exclude_ids))
    for p in proposed:
        clashes = []
        for e in existing["clinician"]:
            if e.starts_at < p.ends_at and e.ends_at > p.starts_at:
                clashes.append({"with": "clinician", "clinician_id": clinician_id,
                                "session": _session_ref(e, zone)})
        for e in existing["room"]:
            if e.room_id == p.room_id and e.starts_at < p.ends_at and e.ends_at > p.starts_at:
                clashes.append({"with": "room", "room_id": p.room_id,
                                "session": _session_ref(e, zone)})
        for e in existing["client"]:
            if e.starts_at < p.ends_at and e.ends_at > p.starts_at:
                clashes.append({"with": "client", "client_id": e.client_id,
                                "session": _session_ref(e, zone)})
        # Two occurrences of the same request can clash too (overrides).
        for q in proposed:
            if q is not p and q.starts_at < p.ends_at and q.ends_at > p.starts_at:
                clashes.append({"with": "series", "session": {"number": q.number}})
        if clashes:
            report.conflicts.append({
                "number": p.number,
                "starts_at": p.starts_at.astimezone(zone).isoformat(),
                "ends_at": p.ends_at.astimezone(zone).isoformat(),
                "room_id": p.room_id,
                "clashes_with": sorted({c["with"] for c in clashes}),
                "clashes": clashes,
            })
    if report and suggest:
        add_suggestions(report, clinician_id=clinician_id, client_ids=client_ids,
                        proposed={p.number: p for p in proposed}, zone=zone,
                        exclude_ids=set(exclude_ids), min_capacity=min_capacity)
    return report


def add_suggestions(report: ConflictReport, *, clinician_id: int, client_ids: list[int],
                    proposed: dict[int, Proposed], zone: ZoneInfo, exclude_ids: set[int],
                    min_capacity: int) -> None:
    """A free room at the same time, and the nearest free starts that day."""
    clashing = [proposed[c["number"]] for c in report.conflicts]
    rooms = db.session.execute(select(Room.id, Room.name).where(
        Room.active, Room.capacity >= min_capacity).order_by(Room.capacity, Room.id)).all()
    busy_rooms = db.session.execute(
        select(TherapySession.room_id, TherapySession.starts_at, TherapySession.ends_at, TherapySession.id)
        .where(_live(), _overlaps_any(TherapySession.starts_at, TherapySession.ends_at, clashing))
    ).all()
    # Whole local days around each clash, for the "nearest free time" search.
    days = {p.number: p.starts_at.astimezone(zone).date() for p in clashing}
    day_bounds = [Proposed(0, local_instant(d, from_minutes(0), zone),
                           local_instant(d, from_minutes(0), zone) + timedelta(days=1), 0)
                  for d in set(days.values())]
    index = BusyIndex(zone)
    day_rows = db.session.execute(
        select(TherapySession.id, TherapySession.clinician_id, TherapySession.room_id,
               TherapySession.starts_at, TherapySession.ends_at)
        .where(_live(), or_(TherapySession.clinician_id == clinician_id,
                            TherapySession.room_id.in_({p.room_id for p in clashing})),
               _overlaps_any(TherapySession.starts_at, TherapySession.ends_at, day_bounds))).all()
    for r in day_rows:
        if r.id in exclude_ids:
            continue
        index.add(("c", r.clinician_id), r.starts_at, r.ends_at)
        index.add(("r", r.room_id), r.starts_at, r.ends_at)
    if client_ids:
        for r in db.session.execute(
                select(SessionParticipant.session_id, SessionParticipant.client_id,
                       SessionParticipant.starts_at, SessionParticipant.ends_at)
                .where(SessionParticipant.active, SessionParticipant.client_id.in_(client_ids),
                       _overlaps_any(SessionParticipant.starts_at, SessionParticipant.ends_at,
                                     day_bounds))).all():
            if r.session_id not in exclude_ids:
                index.add(("client", 0), r.starts_at, r.ends_at)
    # The request's own other occurrences occupy their slots too.
    for p in proposed.values():
        index.add(("c", clinician_id), p.starts_at, p.ends_at)
    clinician = db.session.get(Clinician, clinician_id)
    for conflict in report.conflicts:
        p = proposed[conflict["number"]]
        free_rooms = []
        for rid, name in rooms:
            if rid == p.room_id:
                continue
            if any(b.room_id == rid and b.id not in exclude_ids and b.starts_at < p.ends_at
                   and b.ends_at > p.starts_at for b in busy_rooms):
                continue
            free_rooms.append({"room_id": rid, "name": name})
            if len(free_rooms) == 3:
                break
        local = p.starts_at.astimezone(zone)
        day = local.date()
        work = 0
        for wh in (clinician.working_hours if clinician else []):
            if wh.weekday == day.weekday():
                work |= span(wh.start.hour * 60 + wh.start.minute, wh.end.hour * 60 + wh.end.minute)
        length = int((p.ends_at - p.starts_at).total_seconds() // 60)
        own = span(local.hour * 60 + local.minute, local.hour * 60 + local.minute + length)
        masks = [index.get(("c", clinician_id), day) & ~own, index.get(("r", p.room_id), day),
                 index.get(("client", 0), day)]
        times = []
        for m in nearest_free_starts(requested=local.hour * 60 + local.minute, duration=length,
                                     work=work, busy_masks=masks):
            try:
                start = local_instant(day, from_minutes(m), zone)
            except ValueError:
                continue
            times.append({"starts_at": start.astimezone(zone).isoformat(),
                          "ends_at": (start + (p.ends_at - p.starts_at)).astimezone(zone).isoformat(),
                          "start_time": from_minutes(m).strftime("%H:%M"), "room_id": p.room_id})
        conflict["suggestions"] = {"free_rooms": free_rooms, "nearest_times": times}


def _busy(clash: dict) -> dict:
    """A clash told as "busy" and a time: nothing of the other session."""
    ref = clash.get("session") or {}
    out = {"with": clash["with"], "busy": True, "starts_at": ref.get("starts_at"),
           "ends_at": ref.get("ends_at")}
    for key in ("room_id", "client_id", "clinician_id"):
        if key in clash:
            out[key] = clash[key]
    return out


def conflicts_for(user, conflicts: list[dict]) -> list[dict]:
    """The conflicts as ``user`` may read them (SPEC section 6).

    Front desk and admins see every clashing session. A clinician sees their
    own sessions as they are; a session of another clinician's course (in a
    room they want, or with a client they share) only as "busy" with its
    time: no course, session or number, which would lead to that course.
    """
    if user is None or getattr(user, "role", None) != "clinician":
        return conflicts
    ids = {c["session"]["session_id"] for conflict in conflicts
           for c in conflict.get("clashes", ()) if (c.get("session") or {}).get("session_id")}
    own = set(db.session.scalars(select(TherapySession.id).where(
        TherapySession.id.in_(ids), TherapySession.clinician_id == user.clinician_id))) \
        if ids and user.clinician_id else set()
    out = []
    for conflict in conflicts:
        clashes = [c if "session_id" not in (c.get("session") or {})
                   or c["session"]["session_id"] in own else _busy(c)
                   for c in conflict.get("clashes", ())]
        out.append({**conflict, "clashes": clashes})
    return out
