"""Book a course and its whole series, all or nothing (``POST /api/courses``).

Order of work, inside one transaction: load and check the people and room,
ask the modality and its plugin, expand the series in the practice's zone,
look for conflicts, then write; the database's overlap guards catch any race
and the answer is the same 409.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, literal, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..audit import record
from ..contributions import BookingDraft
from ..db import utcnow
from ..errors import Conflict, NotFound, RuleViolation, violation
from ..extensions import db
from ..models import (Client, Clinician, Course, CourseClient, Room, SessionParticipant,
                      TherapySession)
from ..plugin_manager import hooks
from ..scheduling import bounds
from ..scheduling.series import SeriesTooLong, expand_series
from ..scheduling.timeutil import NonexistentLocalTime, minutes
from .calendar import Blocker, practice_zone
from .conflicts import Proposed, find_conflicts
from .flags import flags_enabled, refresh_course_flags
from .intake import clean_intake
from .modalities import core_bounds_violations, get_modality, run_checks


def new_uid() -> str:
    """A feed UID: random, stable, no personal data."""
    return f"{uuid.uuid4()}@practice"


def is_overlap_error(err: IntegrityError) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    code = getattr(getattr(err, "orig", None), "sqlstate", None)
    return code == "23P01" or "overlap:" in text or "ex_sessions" in text or \
        "ex_participants" in text


def make_session(course: Course, number: int, starts_at: datetime, ends_at: datetime,
                 room_id: int, client_ids: list[int], is_make_up: bool = False,
                 makes_up: int | None = None) -> TherapySession:
    now = utcnow()
    s = TherapySession(number=number, clinician_id=course.clinician_id,
                       room_id=room_id, starts_at=starts_at, ends_at=ends_at,
                       status="scheduled", is_make_up=is_make_up, makes_up=makes_up,
                       uid=new_uid(), sequence=0,
                       created_at=now, updated_at=now)
    s.participants = [SessionParticipant(client_id=cid, starts_at=starts_at, ends_at=ends_at,
                                         active=True) for cid in client_ids]
    course.sessions.append(s)
    return s


def insert_course(values: dict, client_ids: list[int]) -> Course:
    """Write a new course row and its clients; the persistent ``Course``.

    Two Core INSERTs instead of the unit of work's flush of a Course and its
    CourseClients (the flush's bookkeeping cost more than the statements);
    the object is then made persistent as if just loaded, its clients in
    the order given (as the flushed collection kept them) and no flags.
    """
    C, CC = Course.__table__, CourseClient.__table__
    course_id = db.session.execute(C.insert().returning(C.c.id), values).scalar_one()
    if client_ids:
        db.session.execute(CC.insert(), [{"course_id": course_id, "client_id": cid}
                                         for cid in client_ids])
    course = Course(id=course_id, outcome=None, close_reason=None, closed_at=None, **values)
    clients = [CourseClient(course_id=course_id, client_id=cid) for cid in client_ids]
    for c in clients:
        make_transient_to_detached(c)
    make_transient_to_detached(course)
    set_committed_value(course, "clients", clients)
    set_committed_value(course, "flags", [])  # a new course has none: no query for that
    db.session.add(course)
    return course


def insert_series(course: Course, occurrences, client_ids: list[int]) -> None:
    """Write a new (flushed) course's sessions and their participant rows.

    Core statements rather than ORM objects: the unit of work sent one
    INSERT ... RETURNING per session and per participant row (SQLite cannot
    promise RETURNING's order), about half the cost of a booking. Here the
    sessions go in as one executemany and each client's rows as one
    INSERT ... SELECT; the overlap guards check every row all the same.
    """
    # Tables, not ORM entities: the same SQL, run as Core.
    S, P = TherapySession.__table__, SessionParticipant.__table__
    now = utcnow()
    db.session.execute(S.insert(), [
        {"course_id": course.id, "number": o.number, "clinician_id": course.clinician_id,
         "room_id": o.room_id, "starts_at": o.starts_at, "ends_at": o.ends_at,
         "status": "scheduled", "is_make_up": False, "uid": new_uid(), "sequence": 0,
         "created_at": now, "updated_at": now} for o in occurrences])
    for cid in client_ids:
        db.session.execute(P.insert().from_select(
            ["session_id", "client_id", "starts_at", "ends_at", "active"],
            select(S.c.id, literal(cid, Integer), S.c.starts_at, S.c.ends_at, true())
            .where(S.c.course_id == course.id)))
    # The ORM has not seen these rows: load them when next asked for.
    db.session.expire(course, ["sessions"])


def working_hours_warnings(clinician: Clinician, occurrences, zone: ZoneInfo) -> list[dict]:
    out = []
    for o in occurrences:
        local_start = o.starts_at.astimezone(zone)
        local_end = o.ends_at.astimezone(zone)
        s, e = minutes(local_start.time()), minutes(local_end.time()) or 1440
        ok = any(wh.weekday == local_start.weekday() and minutes(wh.start) <= s
                 and e <= minutes(wh.end) for wh in clinician.working_hours)
        if not ok:
            out.append({"rule": "clinician.working_hours", "plugin": None,
                        "message": f"Session {o.number} on {local_start.date().isoformat()} is "
                                   "outside the clinician's working hours.", "number": o.number})
    return out


@lru_cache(maxsize=None)
def _statements() -> dict:
    """The lookups every booking makes, built once with bound parameters:
    building them per request (and the ORM's selectin loads, one statement
    each for working hours and modalities) cost more than running them.
    One statement loads the clinician with both (joined: a few rows); the
    room without its site, which booking never reads (it stays loadable);
    clients are only checked to exist."""
    return {
        "clinician": select(Clinician).where(Clinician.id == bindparam("id")).options(
            joinedload(Clinician.working_hours), joinedload(Clinician.modality_rows)),
        "room": select(Room).where(Room.id == bindparam("id")).options(lazyload(Room.site)),
        "clients": select(Client.__table__.c.id).where(  # Core: plain ids
            Client.__table__.c.id.in_(bindparam("ids", expanding=True))),
        "series": select(TherapySession).where(TherapySession.course_id == bindparam("course"))
        .order_by(TherapySession.number).options(joinedload(TherapySession.participants)),
    }


def _load_one(key: str, model_id: int, what: str):
    # all(), not first(): first() would stop reading after one joined row.
    found = db.session.scalars(_statements()[key], {"id": model_id}).unique().all()
    if not found:
        raise NotFound(f"{what} {model_id} does not exist.", missing_ids=[model_id])
    return found[0]


def _check_clients(ids: list[int]) -> None:
    found = set(db.session.scalars(_statements()["clients"], {"ids": ids}))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"Client {', '.join(map(str, missing))} does not exist.",
                       missing_ids=missing)


def book_course(data: dict, *, dry_run: bool = False) -> dict:
    """Book (or preview) a course. Returns the answer's body parts.

    Raises NotFound (unknown ids), RuleViolation (422) and Conflict (409);
    a dry run returns conflicts and violations instead of raising them.
    """
    zone = practice_zone()
    client_ids = list(dict.fromkeys(data["client_ids"]))
    clinician = _load_one("clinician", data["clinician_id"], "Clinician")
    room = _load_one("room", data["room_id"], "Room")
    _check_clients(client_ids)
    modality = get_modality(data.get("modality") or "general")
    count = data.get("session_count") or modality.default_sessions
    interval = data.get("interval_weeks") or modality.default_interval_weeks
    duration = data.get("duration_minutes") or modality.default_duration
    first_date: date = data["first_date"]
    start: time = data["start_time"]
    # The modality's plugin validates an intake given with the booking (422).
    intake = clean_intake(modality.key, data["intake"]) if data.get("intake") else None

    violations = core_bounds_violations(modality, session_count=count, interval_weeks=interval,
                                        duration_minutes=duration,
                                        client_count=len(client_ids))
    violations += _core_rules(clinician, room, client_ids, modality.key, data, count)
    overrides = {o["number"]: o for o in data.get("overrides") or []}
    expansion = None
    if not any(v["rule"] == "schedule.overrides" for v in violations):
        try:
            expansion = expand_series(
                first_date=first_date, start=start, duration_minutes=duration, count=count,
                interval_weeks=interval, zone=zone, room_id=room.id,
                blocked=Blocker(clinician.id, first_date), overrides=overrides)
        except NonexistentLocalTime as err:
            violations.append(violation("time.nonexistent", str(err), field="start_time"))
        except SeriesTooLong as err:
            violations.append(violation("schedule.too_many_skips", str(err), field="first_date"))
        except bounds.OutOfRange as err:
            violations.append(violation(bounds.RULE, str(err), field="first_date"))
    if expansion is not None:
        for o in expansion.occurrences:
            r = db.session.get(Room, o.room_id) if o.room_id != room.id else room
            if r is None:
                violations.append(violation("schedule.overrides", f"Room {o.room_id} does not "
                                            "exist.", field="overrides"))
            elif not r.active:
                violations.append(violation("room.inactive", f"Room {r.id} is not active.",
                                            field="overrides"))
            elif r.capacity < len(client_ids):
                violations.append(violation("room.capacity", f"Room {r.id} holds {r.capacity}, "
                                            f"not {len(client_ids)} clients.", field="overrides"))
    warnings: list[dict] = []
    draft = BookingDraft(modality=modality.key, clinician_id=clinician.id, room_id=room.id,
                         client_ids=client_ids, session_count=count, interval_weeks=interval,
                         duration_minutes=duration, first_date=first_date,
                         sessions=[o.as_dict() for o in expansion.occurrences] if expansion else [])
    if not violations:
        plugin_violations, plugin_warnings = run_checks(
            "practice_check_booking", draft=draft, modality=modality)
        violations += plugin_violations
        warnings += plugin_warnings
    if violations and not dry_run:
        raise RuleViolation(violations)
    occurrences = expansion.occurrences if expansion else []
    now = utcnow()
    past = [o.number for o in occurrences if o.starts_at < now]
    if past:
        warnings.append({"rule": "schedule.past", "plugin": None, "numbers": past,
                         "message": f"{len(past)} session(s) are in the past; they are "
                                    "booked to record a course already under way."})
    warnings += working_hours_warnings(clinician, occurrences, zone)
    proposed = [Proposed(o.number, o.starts_at, o.ends_at, o.room_id) for o in occurrences]
    conflicts = find_conflicts(clinician_id=clinician.id, client_ids=client_ids,
                               proposed=proposed, zone=zone,
                               min_capacity=len(client_ids)).conflicts
    # The phases the real booking will show: the modality's hook on a course
    # that is never added to the session (every session scheduled, k = number).
    draft_course = Course(modality=modality.key, planned_sessions=count)
    phase_hook = hooks().practice_session_phase
    preview_sessions = [{"number": o.number, "starts_at": o.starts_at.astimezone(zone).isoformat(),
                         "ends_at": o.ends_at.astimezone(zone).isoformat(),
                         "room_id": o.room_id, "status": "scheduled",
                         "phase": phase_hook(course=draft_course, number=i, total=count)}
                        for i, o in enumerate(occurrences, start=1)]
    skipped = expansion.skipped if expansion else []
    if dry_run:
        db.session.rollback()
        return {"dry_run": True, "ok": not (violations or conflicts),
                "sessions": preview_sessions, "skipped": skipped, "conflicts": conflicts,
                "warnings": warnings, "violations": violations}
    if conflicts:
        db.session.rollback()
        raise Conflict(_conflict_message(conflicts), conflicts=conflicts, skipped=skipped)

    values = dict(clinician_id=clinician.id, room_id=room.id, modality=modality.key,
                  label=data.get("label"), planned_sessions=count,
                  weekday=first_date.weekday(), start_time=start, duration_minutes=duration,
                  interval_weeks=interval, first_date=first_date, timezone=zone.key,
                  status="active", modality_data={"intake": intake} if intake is not None else {},
                  created_at=now, updated_at=now)
    try:
        course = insert_course(values, client_ids)
        insert_series(course, occurrences, client_ids)
    except IntegrityError as err:
        db.session.rollback()
        raise race_conflict(err, clinician.id, client_ids, proposed, zone,
                            min_capacity=len(client_ids), skipped=skipped) from err
    record("create", "course", course.id, modality=modality.key, sessions=count,
           clinician_id=clinician.id, client_ids=client_ids)
    refresh_course_flags(course)
    refresh_related_flags(client_ids, exclude=course.id)
    try:
        commit_keeping(course)
    except IntegrityError as err:
        db.session.rollback()
        raise race_conflict(err, clinician.id, client_ids, proposed, zone,
                            min_capacity=len(client_ids), skipped=skipped) from err
    return {"course": course, "skipped": skipped, "warnings": warnings}


def commit_keeping(course: Course) -> None:
    """Commit, keeping the objects as this transaction wrote and read them.

    The answer is built from ``course`` right after; with the usual expiry on
    commit that took a second transaction (on SQLite a second BEGIN
    IMMEDIATE, the write lock again) and five queries to read back what was
    just written. The sessions, written by ``insert_series``, are loaded
    once before the commit instead, with their participants in the same
    statement (a lazy load, then a selectin load, built both per request).
    """
    sessions = db.session.scalars(_statements()["series"], {"course": course.id}).unique().all()
    set_committed_value(course, "sessions", list(sessions))
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def race_conflict(err: IntegrityError, clinician_id: int, client_ids: list[int],
                  proposed: list[Proposed], zone: ZoneInfo,
                  exclude_ids: set[int] = frozenset(), *, min_capacity: int = 1,
                  **extra) -> Exception:
    """The database refused an overlap the pre-check did not see (a race):
    answer the same 409, rebuilt from what is now committed; ``min_capacity``
    and ``extra`` (``skipped``) as the pre-check's answer has them."""
    if not is_overlap_error(err):
        return err
    conflicts = find_conflicts(clinician_id=clinician_id, client_ids=client_ids,
                               proposed=proposed, zone=zone, exclude_ids=exclude_ids,
                               min_capacity=min_capacity).conflicts
    db.session.rollback()
    return Conflict(_conflict_message(conflicts) if conflicts else
                    "Another booking took this time a moment ago.", conflicts=conflicts,
                    **extra)


def _conflict_message(conflicts: list[dict]) -> str:
    nums = ", ".join(str(c["number"]) for c in conflicts)
    return f"{len(conflicts)} session(s) clash with existing bookings (session {nums})."


def refresh_related_flags(client_ids: list[int], exclude: int | None = None) -> None:
    """Other courses of the same clients may open or close flags now."""
    if not client_ids or not flags_enabled():
        return
    others = db.session.scalars(
        select(Course).join(CourseClient).where(CourseClient.client_id.in_(client_ids),
                                                Course.id != (exclude or 0))).unique().all()
    for c in others:
        refresh_course_flags(c)


def _core_rules(clinician, room, client_ids, modality_key, data, count) -> list[dict]:
    out = []
    if not clinician.active:
        out.append(violation("clinician.inactive", f"Clinician {clinician.id} is not active.",
                             field="clinician_id"))
    if modality_key != "general" and modality_key not in clinician.modalities:
        out.append(violation("clinician.modality",
                             f"Clinician {clinician.id} does not deliver {modality_key}.",
                             field="clinician_id"))
    if not room.active:
        out.append(violation("room.inactive", f"Room {room.id} is not active.", field="room_id"))
    if room.capacity < len(client_ids):
        out.append(violation("room.capacity", f"Room {room.id} holds {room.capacity}, not "
                             f"{len(client_ids)} clients.", field="room_id"))
    seen = set()
    for o in data.get("overrides") or []:
        n = o["number"]
        if n in seen or not 1 <= n <= count:
            out.append(violation("schedule.overrides",
                                 f"Override for session {n}: numbers must be unique and "
                                 f"between 1 and {count}.", field="overrides"))
        seen.add(n)
        if not any(k in o for k in ("room_id", "start_time", "date")):
            out.append(violation("schedule.overrides", f"Override for session {n} changes "
                                 "nothing.", field="overrides"))
    return out
