"""The demo's courses: about thirty series, from eight weeks ago to sixteen
weeks ahead, and the attendance of the sessions already past.

Everything goes through the real use cases (``book_course``,
``record_attendance``, ``cancel``), so every rule, plugin hook and database
guard applies, closures and absences are skipped as in real use, and
no-shows and cancellations of IPT courses get their make-up sessions.
A modality that is not enabled is booked as ``general`` with the same
slot, so the demo looks alike with and without the IPT plugin.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..db import utcnow
from ..errors import AppError, Conflict, RuleViolation
from ..extensions import db
from ..models import Client, Clinician, Course, CourseClient, Room
from .booking import book_course
from .course_changes import cancel, record_attendance
from .modalities import enabled_modalities


@dataclass(frozen=True)
class DemoCourse:
    clinician: str          # email's local part: okafor -> okafor@demo.practice
    room: str
    clients: tuple[str, ...]
    modality: str
    weekday: int            # 0 is Monday
    start: str              # HH:MM, local
    week: int               # first week, relative to this week (-8 is eight weeks ago)
    sessions: int
    interval: int = 1
    duration: int = 50
    label: str | None = None


def _c(clinician, room, clients, modality, weekday, start, week, sessions, interval=1,
       duration=50, label=None) -> DemoCourse:
    clients = (clients,) if isinstance(clients, str) else tuple(clients)
    return DemoCourse(clinician, room, clients, modality, weekday, start, week, sessions,
                      interval, duration, label)


IPT_G = ("Drew Ellis", "Emery Fox", "Finley Grant", "Noel Owens", "Oakley Price", "Val Young")
MINDFULNESS = ("Cam Delgado", "Dana Ellison", "Eli Farrow", "Frankie Hale")
# Each clinician keeps to a home room; slots fit their working hours and
# never clash (a clash would only move the course to the next free slot).
DEMO_COURSES = [
    _c("okafor", "Room 2", "Alex Morgan", "ipt", 1, "10:00", -4, 16),
    _c("okafor", "Room 2", "Blake Carter", "general", 1, "11:00", -2, 12),
    _c("okafor", "Room 2", "Uma Walsh", "ipt", 0, "09:00", -8, 16),
    _c("okafor", "Room 2", "Jesse Kim", "ipt-m", 2, "14:00", -8, 6, interval=4),
    _c("okafor", "Room 2", "Kai Lopez", "ipt", 3, "15:00", -6, 14),
    _c("okafor", "Room 2", "Logan Moss", "general", 0, "16:00", -1, 10),
    _c("okafor", "Room 2", "Morgan Nash", "ipt-m", 4, "09:00", -6, 6, interval=4),
    _c("lindqvist", "Room 1", "Casey Jordan", "general", 0, "09:00", -6, 12),
    _c("lindqvist", "Group Room", IPT_G, "ipt-g", 3, "14:00", -5, 16, duration=90,
       label="Thursday IPT group"),
    _c("lindqvist", "Room 1", "Parker Quinn", "ipt", 2, "10:00", -3, 16),
    _c("lindqvist", "Room 1", "Quinn Reyes", "general", 4, "11:00", -8, 20),
    _c("lindqvist", "Room 1", "Wren Abbott", "ipt", 1, "08:00", 1, 12),
    _c("russo", "Riverside 1", "Gray Hughes", "general", 2, "15:00", 0, 12),
    _c("russo", "Riverside 1", "Reese Shaw", "ipt-a", 1, "16:00", -6, 12, duration=45),
    _c("russo", "Riverside 1", "Sage Turner", "ipt-a", 3, "16:00", -2, 12, duration=45),
    _c("russo", "Riverside 1", "Taylor Vance", "ipt-b", 0, "11:00", -8, 8),
    _c("russo", "Riverside 1", "Xavi Brooks", "ipt-b", 4, "14:00", -3, 8),
    _c("russo", "Riverside 1", "Yara Coleman", "general", 2, "17:00", -4, 8, interval=2),
    _c("patel", "Room 1", "Harper Irving", "general", 4, "09:30", -3, 8),
    _c("patel", "Riverside 2", "Zane Dalton", "general", 0, "13:00", -7, 16),
    _c("patel", "Room 3", "Ari Bennett", "general", 1, "14:00", -2, 12),
    _c("patel", "Garden Room", MINDFULNESS, "general", 2, "13:00", -4, 12, duration=90,
       label="Mindfulness group"),
    _c("mensah", "Riverside 2", "Indy James", "ipt", 1, "09:00", -7, 16),
    _c("mensah", "Riverside 2", "Gale Ingram", "ipt-m", 3, "17:30", -6, 6, interval=4),
    _c("mensah", "Riverside 2", "Dana Ellison", "ipt", 2, "18:00", -5, 16),
    _c("mensah", "Riverside 2", "Frankie Hale", "general", 3, "09:00", -8, 8, interval=2),
    _c("haddad", "Room 3", "Eli Farrow", "ipt", 0, "10:00", -4, 16),
    _c("haddad", "Room 3", "Cam Delgado", "ipt-b", 2, "11:00", 1, 8),
    _c("haddad", "Room 3", "Val Young", "general", 3, "13:00", -6, 12),
    _c("silva", "Riverside 3", "Bo Castillo", "ipt-a", 4, "16:00", -5, 12, duration=45),
    _c("silva", "Riverside 3", "Hollis Jude", "ipt-m", 1, "10:00", -8, 6, interval=4),
    _c("silva", "Riverside 3", "Noel Owens", "general", 5, "10:00", -3, 10),
]
# The IPT intake of most individual IPT courses; Kai Lopez's course has none,
# so it shows the "problem area missing" flag.
INTAKES = {
    "Alex Morgan": {"primary_problem_area": "grief", "prior_episodes": 1},
    "Uma Walsh": {"primary_problem_area": "role_transition",
                  "secondary_problem_area": "grief", "prior_episodes": 0},
    "Parker Quinn": {"primary_problem_area": "role_dispute", "dispute_stage": "impasse"},
    "Wren Abbott": {"primary_problem_area": "role_transition"},
    "Reese Shaw": {"primary_problem_area": "role_dispute", "dispute_stage": "renegotiation"},
    "Sage Turner": {"primary_problem_area": "interpersonal_deficits"},
    "Taylor Vance": {"primary_problem_area": "role_transition"},
    "Xavi Brooks": {"primary_problem_area": "grief"},
    "Indy James": {"primary_problem_area": "role_dispute", "dispute_stage": "renegotiation",
                   "prior_episodes": 2},
    "Dana Ellison": {"primary_problem_area": "role_transition"},
    "Eli Farrow": {"primary_problem_area": "grief", "prior_episodes": 1},
    "Cam Delgado": {"primary_problem_area": "role_transition"},
    "Bo Castillo": {"primary_problem_area": "interpersonal_deficits"},
}
CANCEL_REASONS = ("unwell", "work commitment", "childcare", "travel")
MAX_TRIES = 12  # slots tried per course before it is left out
# Refusals that another slot may avoid; any other 422 is the course's own.
SLOT_RULES = {"time.nonexistent", "schedule.too_many_skips", "calendar.blocked"}


def book_demo_courses(today: date) -> dict:
    """Book the demo courses that are not there yet and record attendance for
    their past sessions. Returns ``{"objects": n, "lines": [...]}``.

    A course is there when its clinician already has a course with exactly
    its clients (so an older demo's courses count, and so do courses booked
    on an earlier day)."""
    clinicians = {c.email.split("@")[0]: c for c in db.session.scalars(
        select(Clinician).where(Clinician.email.like("%@demo.practice")))}
    rooms = list(db.session.scalars(select(Room).where(Room.active).order_by(Room.id)))
    clients = dict(db.session.execute(select(Client.name, Client.id)).all())
    have = _existing_courses()
    enabled = enabled_modalities()
    monday = today - timedelta(days=today.weekday())
    booked, skipped, moved = [], 0, 0
    for spec in DEMO_COURSES:
        clinician = clinicians.get(spec.clinician)
        ids = [clients.get(n) for n in spec.clients]
        if clinician is None or None in ids or (clinician.id, frozenset(ids)) in have:
            continue
        modality = spec.modality if spec.modality in enabled else "general"
        if modality != "general" and modality not in clinician.modalities:
            continue  # a practice changed its demo clinician: leave the course out
        answer, tries = _book(spec, modality, clinician, ids, rooms, monday)
        if answer is None:
            continue
        booked.append((spec, answer["course"]))
        skipped += len(answer["skipped"])
        moved += tries > 1
        have.add((clinician.id, frozenset(ids)))
    if not booked:
        return {}
    marks = _record_attendance(booked)
    sessions = sum(len(course.sessions) for _, course in booked)
    lines = [f"Booked {len(booked)} courses ({sessions} sessions; "
             f"{', '.join(sorted({c.modality for _, c in booked}))}); "
             f"{skipped} dates skipped for the closure and the absence, "
             "each moved to the end of its series."]
    if moved:
        lines.append(f"{moved} course(s) took another slot than planned (theirs was taken).")
    lines.append(f"Attendance of past sessions: {marks['attended']} attended, "
                 f"{marks['no_show']} no-shows, {marks['cancelled']} cancelled by the client.")
    return {"objects": len(booked), "lines": lines}


def _existing_courses() -> set[tuple[int, frozenset[int]]]:
    members: dict[int, set[int]] = {}
    for course_id, client_id in db.session.execute(
            select(CourseClient.course_id, CourseClient.client_id)):
        members.setdefault(course_id, set()).add(client_id)
    return {(clinician_id, frozenset(members.get(cid, ())))
            for cid, clinician_id in db.session.execute(select(Course.id, Course.clinician_id))}


def _candidates(spec: DemoCourse, clinician: Clinician, rooms: list[Room], room: Room):
    """The planned slot, then other start times on the planned day within
    the clinician's working hours, then their other days; each in the
    planned room, then the other rooms of its site that hold the clients."""
    planned = time.fromisoformat(spec.start)
    yield spec.weekday, planned, room
    fits = [r for r in rooms if r.capacity >= len(spec.clients) and r.id != room.id]
    others = [room] + [r for r in fits if r.site_id == room.site_id]
    days = [spec.weekday] + sorted({b.weekday for b in clinician.working_hours} - {spec.weekday})
    for day in days:
        for block in (b for b in clinician.working_hours if b.weekday == day):
            t = datetime.combine(date.min, block.start)
            end = datetime.combine(date.min, block.end)
            while t + timedelta(minutes=spec.duration) <= end:
                for r in others:
                    if (day, t.time(), r.id) != (spec.weekday, planned, room.id):
                        yield day, t.time(), r
                t += timedelta(minutes=30)


def _book(spec: DemoCourse, modality: str, clinician: Clinician, client_ids: list[int],
          rooms: list[Room], monday: date) -> tuple[dict | None, int]:
    """Book ``spec`` at its slot or, when the service refuses that slot
    (409, or a 422 another slot may avoid), at the next candidate."""
    room = next((r for r in rooms if r.name == spec.room), None)
    if room is None:
        return None, 0
    intake = INTAKES.get(spec.clients[0]) if modality != "general" and len(client_ids) == 1 \
        else None
    tries = 0
    for weekday, start, r in _candidates(spec, clinician, rooms, room):
        tries += 1
        if tries > MAX_TRIES:
            break
        body = {"client_ids": client_ids, "clinician_id": clinician.id, "room_id": r.id,
                "modality": modality, "start_time": start, "session_count": spec.sessions,
                "first_date": monday + timedelta(weeks=spec.week, days=weekday),
                "duration_minutes": spec.duration, "interval_weeks": spec.interval,
                "label": spec.label}
        if intake:
            body["intake"] = intake
        try:
            return book_course(body), tries
        except Conflict:
            db.session.rollback()
        except RuleViolation as err:
            db.session.rollback()
            if not {v["rule"] for v in err.violations} <= SLOT_RULES:
                return None, tries
        except AppError:
            db.session.rollback()
            return None, tries
    return None, tries


def _record_attendance(booked: list[tuple[DemoCourse, Course]]) -> dict[str, int]:
    """Mark every session that has ended, as front desk would have: mostly
    attended, a few no-shows and client cancellations (a fixed seed, so the
    demo is the same every time). A group's no-show is one member's."""
    session = db.session()
    # Each use case commits; reloading every course's sessions after each
    # commit was half the demo's time. Nothing else writes meanwhile, and
    # the use cases change these objects through the ORM, so they stay true.
    session.expire_on_commit = False
    try:
        return _mark_past_sessions(booked)
    finally:
        session.expire_on_commit = True


def _mark_past_sessions(booked: list[tuple[DemoCourse, Course]]) -> dict[str, int]:
    rng = random.Random(2024)
    marks = {"attended": 0, "no_show": 0, "cancelled": 0}
    for _, course in booked:
        while True:
            now = utcnow()
            due = sorted((s for s in course.sessions
                          if s.status == "scheduled" and s.ends_at <= now),
                         key=lambda s: s.starts_at)
            if not due or course.status not in ("active", "completed"):
                break
            session, roll = due[0], rng.random()
            members = [p.client_id for p in session.participants]
            if roll < 0.07 and course.status == "active":
                cancel(course, session.number, {"by": "client",
                                                "reason": rng.choice(CANCEL_REASONS)}, None)
                marks["cancelled"] += 1
            elif roll < 0.13 and len(members) == 1:
                record_attendance(course, session.number, {"status": "no_show"})
                marks["no_show"] += 1
            else:
                record_attendance(course, session.number, {"status": "attended"})
                marks["attended"] += 1
                if len(members) > 1 and roll < 0.3:
                    record_attendance(course, session.number,
                                      {"status": "no_show", "client_id": rng.choice(members)})
                    marks["no_show"] += 1
    return marks
