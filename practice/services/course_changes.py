"""Changes to a booked course: reschedule, cancel, attendance, extend, close.

Each is one transaction with its audit row; moves run the same conflict
checks as a booking and answer the same 409.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..db import utcnow
from ..errors import Conflict, NotFound, RuleViolation, violation
from ..extensions import db
from ..models import Course, Room, TherapySession
from ..plugin_manager import hooks
from ..scheduling import bounds
from ..scheduling.timeutil import NonexistentLocalTime, local_instant, next_weekday_on_or_after
from .booking import _conflict_message, make_session, race_conflict
from .calendar import Blocker, practice_zone
from .conflicts import Proposed, find_conflicts
from .directory import get_or_404
from .flags import refresh_course_flags
from .modalities import enabled_modalities, run_checks

MAKE_UP_SEARCH_WEEKS = 8


def get_session(course: Course, number: int) -> TherapySession:
    for s in course.sessions:
        if s.number == number:
            return s
    raise NotFound(f"Course {course.id} has no session {number}.")


def _touch(s: TherapySession) -> None:
    s.sequence = (s.sequence or 0) + 1
    s.updated_at = utcnow()


def _require_active(course: Course) -> None:
    if course.status != "active":
        raise RuleViolation([violation("course.not_active",
                                       f"Course {course.id} is {course.status}.")])


def _move(s: TherapySession, starts_at: datetime, ends_at: datetime, room_id: int) -> None:
    s.starts_at, s.ends_at, s.room_id = starts_at, ends_at, room_id
    for p in s.participants:
        p.starts_at, p.ends_at = starts_at, ends_at
    _touch(s)


def _flush_or_409(course: Course, proposed: list[Proposed], zone: ZoneInfo,
                  exclude: set[int] = frozenset(), **extra) -> None:
    try:
        db.session.flush()
    except IntegrityError as err:
        db.session.rollback()
        raise race_conflict(err, course.clinician_id, course.client_ids, proposed, zone,
                            exclude, min_capacity=len(course.client_ids), **extra) from err


@dataclass
class MovePlan:
    """Where a reschedule would put each moving session, and what it found."""

    session: TherapySession  # the one named in the request
    scope: str
    new_day: date
    new_time: time
    room_id: int | None  # the room asked for, if any
    moves: list[tuple[TherapySession, datetime, datetime, int]]  # (session, start, end, room)
    violations: list[dict]
    warnings: list[dict]

    def proposed(self) -> list[Proposed]:
        return [Proposed(s.number, a, b, r, s.id) for s, a, b, r in self.moves]


def _usable_room(course: Course, room_id: int | None) -> None:
    if room_id is None:
        return
    room = get_or_404(Room, room_id, "Room")
    if not room.active or room.capacity < len(course.client_ids):
        raise RuleViolation([violation("room.capacity" if room.active else "room.inactive",
                                       f"Room {room_id} cannot hold this course.",
                                       field="room_id")])


def plan_reschedule(course: Course, number: int, data: dict, zone: ZoneInfo) -> MovePlan:
    """Work out a reschedule without changing anything.

    Raises NotFound (session, room) and RuleViolation for a request that
    cannot be planned at all (course not active, session not scheduled,
    unusable room); the rules about the new times (closures, absences, the
    spring-forward gap, the modality's checks) come back in ``violations``.
    """
    _require_active(course)
    session = get_session(course, number)
    if session.status != "scheduled":
        raise RuleViolation([violation("session.not_scheduled",
                                       f"Session {number} is {session.status}; only scheduled "
                                       "sessions can be moved.")])
    if data.get("starts_at") is not None:
        local = data["starts_at"].astimezone(zone)
        new_day, new_time = local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)
    else:
        new_day, new_time = data["date"], data["start_time"]
    room_id = data.get("room_id")
    _usable_room(course, room_id)
    scope = data.get("scope") or "this"
    old_day = session.starts_at.astimezone(zone).date()
    shift = new_day - old_day
    if scope == "following":
        moving = [s for s in course.sessions if s.status == "scheduled"
                  and s.starts_at >= session.starts_at]
    else:
        moving = [session]
    blocked = Blocker(course.clinician_id, min(new_day, old_day))
    problems, moves = [], []
    when_field = "starts_at" if data.get("starts_at") is not None else "date"
    for s in moving:
        day = s.starts_at.astimezone(zone).date() + shift
        if not bounds.in_range(day):
            problems.append(violation(bounds.RULE, str(bounds.OutOfRange(
                day, f"Session {s.number}")), field=when_field))
            continue
        try:
            start = local_instant(day, new_time, zone)
        except NonexistentLocalTime as err:
            problems.append(violation("time.nonexistent", str(err), field="start_time"))
            continue
        rid = room_id or s.room_id
        why = blocked(day, rid)
        if why:
            problems.append(violation("calendar.blocked", f"Session {s.number} would fall on "
                                      f"{day.isoformat()}: {why}.", field="date"))
        moves.append((s, start, start + (s.ends_at - s.starts_at), rid))
    warnings: list[dict] = []
    if not problems:
        changes = [{"number": s.number, "starts_at": a, "ends_at": b, "room_id": r}
                   for s, a, b, r in moves]
        v, warnings = run_checks("practice_check_reschedule", course=course, session=session,
                                 changes=changes, scope=scope)
        problems += v
    return MovePlan(session, scope, new_day, new_time, room_id, moves, problems, warnings)


def _plan_conflicts(course: Course, plan: MovePlan, zone: ZoneInfo) -> list[dict]:
    return find_conflicts(clinician_id=course.clinician_id, client_ids=course.client_ids,
                          proposed=plan.proposed(), zone=zone,
                          exclude_ids={s.id for s, *_ in plan.moves} | {plan.session.id},
                          min_capacity=len(course.client_ids)).conflicts


def preview_reschedule(course: Course, number: int, data: dict) -> dict:
    """The dry run of ``reschedule``: what would move where, with the
    conflicts (as the 409 lists them), violations and warnings, and ``ok``.

    Writes nothing: the plan never touches the ORM objects, nothing is
    flushed while it runs, and the transaction is rolled back at the end.
    NotFound still raises (an unknown session or room is no preview).
    """
    zone = practice_zone()
    try:
        with db.session.no_autoflush:
            try:
                plan = plan_reschedule(course, number, data, zone)
            except RuleViolation as err:
                return {"dry_run": True, "ok": False, "sessions": [], "conflicts": [],
                        "warnings": [], "violations": err.violations}
            conflicts = _plan_conflicts(course, plan, zone) if plan.moves else []
            sessions = [{"number": s.number, "starts_at": a.astimezone(zone).isoformat(),
                         "ends_at": b.astimezone(zone).isoformat(), "room_id": r}
                        for s, a, b, r in plan.moves]
    finally:
        db.session.rollback()
    return {"dry_run": True, "ok": not (plan.violations or conflicts), "sessions": sessions,
            "conflicts": conflicts, "warnings": plan.warnings, "violations": plan.violations}


def reschedule(course: Course, number: int, data: dict) -> dict:
    """Move session ``number`` (scope ``this``) or it and every later
    scheduled session (scope ``following``) to a new date/time and room."""
    zone = practice_zone()
    plan = plan_reschedule(course, number, data, zone)
    if plan.violations:
        raise RuleViolation(plan.violations)
    proposed = plan.proposed()
    moved_ids = {s.id for s, *_ in plan.moves} | {plan.session.id}
    conflicts = _plan_conflicts(course, plan, zone)
    if conflicts:
        db.session.rollback()
        raise Conflict(_conflict_message(conflicts), conflicts=conflicts)
    # Move in an order that never overlaps a not-yet-moved sibling: latest
    # first when moving later, earliest first when moving earlier.
    moves = plan.moves
    later = moves and moves[0][1] > moves[0][0].starts_at
    for s, a, b, r in sorted(moves, key=lambda x: x[0].starts_at, reverse=bool(later)):
        _move(s, a, b, r)
        _flush_or_409(course, proposed, zone, moved_ids)
    if plan.scope == "following":
        course.weekday = plan.new_day.weekday()
        course.start_time = plan.new_time
        if plan.room_id:
            course.room_id = plan.room_id
    record("reschedule", "session", plan.session.id, course_id=course.id, number=number,
           scope=plan.scope, moved=[s.number for s, *_ in moves])
    refresh_course_flags(course)
    db.session.commit()
    return {"moved": [s.number for s, *_ in moves], "warnings": plan.warnings}


def _next_slot_dates(course: Course, zone: ZoneInfo):
    """Candidate dates after the series' end, on the course's weekday."""
    live = [s for s in course.sessions if not s.cancelled] or list(course.sessions)
    last = max(s.starts_at for s in live).astimezone(zone).date() if live else \
        course.first_date - timedelta(weeks=course.interval_weeks)
    # Dates are in the scheduling range, so a few weeks past it cannot
    # overflow; the caller stops at the first one past it.
    d = next_weekday_on_or_after(last + timedelta(days=1), course.weekday)
    d += timedelta(weeks=course.interval_weeks - 1)
    while True:
        yield d
        if d > bounds.LAST_DAY:
            return
        d += timedelta(weeks=course.interval_weeks)


def append_sessions(course: Course, count: int, *, make_up: bool, walk: bool,
                    makes_up: int | None = None) -> tuple[list, list]:
    """Add ``count`` sessions after the series' end (closures/absences skipped).

    With ``walk`` (make-ups), a week that clashes is passed over for the next
    (up to 8 weeks); otherwise a clash refuses the whole change with 409.
    Returns (new sessions, skipped dates).
    """
    zone = practice_zone()
    blocked = Blocker(course.clinician_id, course.first_date)
    number = max((s.number for s in course.sessions), default=0) + 1
    length = timedelta(minutes=course.duration_minutes)
    planned: list[Proposed] = []
    skipped: list[dict] = []
    clashes = 0
    for day in _next_slot_dates(course, zone):
        if len(planned) == count:
            break
        if not bounds.in_range(day):
            db.session.rollback()
            raise RuleViolation([violation(bounds.RULE, str(bounds.OutOfRange(
                day, f"Session {number + len(planned)}")))])
        if len(skipped) + clashes > 104 + count:
            raise RuleViolation([violation("schedule.too_many_skips",
                                           "No free week found for the new session(s).")])
        why = blocked(day, course.room_id)
        if why:
            skipped.append({"date": day.isoformat(), "reason": why})
            continue
        try:
            start = local_instant(day, course.start_time, zone)
        except NonexistentLocalTime as err:
            skipped.append({"date": day.isoformat(), "reason": str(err)})
            continue
        p = Proposed(number + len(planned), start, start + length, course.room_id)
        if walk:
            report = find_conflicts(clinician_id=course.clinician_id,
                                    client_ids=course.client_ids, proposed=[p], zone=zone,
                                    suggest=False)
            if report:
                clashes += 1
                skipped.append({"date": day.isoformat(), "reason": "conflict: slot taken"})
                if clashes >= MAKE_UP_SEARCH_WEEKS:
                    raise Conflict("No free week for a make-up session in the next "
                                   f"{MAKE_UP_SEARCH_WEEKS} weeks.", conflicts=report.conflicts)
                continue
        planned.append(p)
    if not walk:
        report = find_conflicts(clinician_id=course.clinician_id, client_ids=course.client_ids,
                                proposed=planned, zone=zone,
                                min_capacity=len(course.client_ids))
        if report:
            db.session.rollback()
            raise Conflict(_conflict_message(report.conflicts), conflicts=report.conflicts,
                           skipped=skipped)
    new = [make_session(course, p.number, p.starts_at, p.ends_at, p.room_id, course.client_ids,
                        is_make_up=make_up, makes_up=makes_up) for p in planned]
    _flush_or_409(course, planned, zone, skipped=skipped)
    return new, skipped


def _make_up(course: Course, session: TherapySession, event: str, requested) -> dict | None:
    wants = hooks().practice_make_up_policy(course=course, session=session, event=event,
                                            requested=requested)
    if not wants:
        return None
    new, skipped = append_sessions(course, 1, make_up=True, walk=True, makes_up=session.number)
    return {"number": new[0].number, "starts_at": new[0].starts_at, "skipped": skipped}


def cancel(course: Course, number: int, data: dict, user_id: int | None) -> dict:
    _require_active(course)
    session = get_session(course, number)
    if session.status != "scheduled":
        raise RuleViolation([violation("session.not_scheduled",
                                       f"Session {number} is {session.status}; only scheduled "
                                       "sessions can be cancelled.")])
    by, reason = data["by"], data.get("reason")
    v, warnings = run_checks("practice_check_cancellation", course=course, session=session,
                             by=by, reason=reason)
    if v:
        raise RuleViolation(v)
    session.status = f"cancelled_by_{by}"
    session.cancelled_by = by
    session.cancel_reason = reason
    session.cancelled_at = utcnow()
    session.cancelled_by_user_id = user_id
    for p in session.participants:
        p.active = False
    _touch(session)
    db.session.flush()
    make_up = _make_up(course, session, "cancel", data.get("make_up"))
    record("cancel", "session", session.id, course_id=course.id, number=number, by=by,
           make_up=make_up["number"] if make_up else None)
    refresh_course_flags(course)
    db.session.commit()
    return {"session": session, "make_up": make_up, "warnings": warnings}


def record_attendance(course: Course, number: int, data: dict) -> dict:
    session = get_session(course, number)
    status = data["status"]
    if course.status == "ended_early":
        raise RuleViolation([violation("course.not_active", f"Course {course.id} is closed.")])
    if session.cancelled:
        raise RuleViolation([violation("attendance.cancelled",
                                       f"Session {number} was cancelled.")])
    if session.starts_at > utcnow():
        raise RuleViolation([violation("attendance.not_started",
                                       f"Session {number} has not started yet.")])
    client_id = data.get("client_id")
    targets = session.participants
    if client_id is not None:
        targets = [p for p in session.participants if p.client_id == client_id]
        if not targets:
            raise NotFound(f"Client {client_id} is not in session {number}.")
    v, warnings = run_checks("practice_check_attendance", course=course, session=session,
                             status=status)
    if v:
        raise RuleViolation(v)
    was = session.status
    for p in targets:
        p.attendance = status
    marks = [p.attendance for p in session.participants]
    if "attended" in marks:
        session.status = "attended"
    elif all(m == "no_show" for m in marks):
        session.status = "no_show"
    if session.status != was:
        _touch(session)
    make_up = None
    if session.status == "no_show" and was != "no_show" and course.status == "active":
        make_up = _make_up(course, session, "no_show", data.get("make_up"))
    _maybe_complete(course)
    record("attendance", "session", session.id, course_id=course.id, number=number,
           status=status, client_id=client_id)
    refresh_course_flags(course)
    db.session.commit()
    return {"session": session, "make_up": make_up, "warnings": warnings}


def _maybe_complete(course: Course) -> None:
    """A course ends when its last (non-cancelled) session is attended; how
    (``completed`` or ``ended_early``) is the modality's call, as on close."""
    live = sorted((s for s in course.sessions if not s.cancelled), key=lambda s: s.starts_at)
    if course.status == "active" and live and live[-1].status == "attended":
        attended = sum(1 for s in course.sessions if s.status == "attended")
        status = hooks().practice_close_status(course=course, attended=attended, outcome=None)
        course.status = status or "completed"
        course.closed_at = utcnow()
        record("complete", "course", course.id, status=course.status, attended=attended)


def extend(course: Course, data: dict) -> dict:
    _require_active(course)
    added, reason = data["sessions"], data.get("reason")
    modality = enabled_modalities().get(course.modality)
    if modality is None:
        raise RuleViolation([violation("modality.unknown", f"Modality {course.modality!r} is "
                                       "not enabled here.", field="modality")])
    new_total = course.planned_sessions + added
    cap = modality.max_extended_sessions or modality.max_sessions
    problems = []
    if new_total > cap:
        p = modality.plugin if modality.plugin != "core" else None
        problems.append(violation(f"{p or 'course'}.session_count",
                                  f"{modality.label} courses are capped at {cap} sessions; "
                                  f"{new_total} asked.", field="sessions", plugin=p))
    v, warnings = run_checks("practice_check_extension", course=course, modality=modality,
                             added=added, new_total=new_total, reason=reason)
    problems += v
    if problems:
        raise RuleViolation(problems)
    new, skipped = append_sessions(course, added, make_up=False, walk=False)
    course.planned_sessions = new_total
    record("extend", "course", course.id, added=added, new_total=new_total, reason=reason)
    refresh_course_flags(course)
    db.session.commit()
    return {"added": [s.number for s in new], "skipped": skipped, "warnings": warnings}


def close_course(course: Course, data: dict) -> Course:
    _require_active(course)
    attended = sum(1 for s in course.sessions if s.status == "attended")
    status = hooks().practice_close_status(course=course, attended=attended,
                                           outcome=data["outcome"])
    now = utcnow()
    for s in course.sessions:
        if s.status == "scheduled" and s.starts_at > now:
            s.status = "cancelled_by_practice"
            s.cancelled_by = "practice"
            s.cancel_reason = "course closed"
            s.cancelled_at = now
            for p in s.participants:
                p.active = False
            _touch(s)
    course.status = status
    course.outcome = data["outcome"]
    course.close_reason = data.get("reason")
    course.closed_at = now
    record("close", "course", course.id, status=status, attended=attended)
    refresh_course_flags(course)
    db.session.commit()
    return course
