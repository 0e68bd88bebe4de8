"""What the course pages show, gathered for their templates.

Read-only: names for the ids a course holds (clients, clinician, rooms),
its sessions as ``course_view`` gives them (the API's own answer, so the
page and ``GET /api/courses/<id>`` never disagree) with what each may offer,
and the values each action's form starts with.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..db import utcnow
from ..extensions import db
from ..models import Client, Clinician, Course, CourseClient, Room, TherapySession, User
from ..services.calendar import practice_zone
from ..services.course_view import course_dict
from ..services.modalities import enabled_modalities

STATUS_LABELS = {
    "scheduled": "Scheduled", "attended": "Attended", "no_show": "No-show",
    "cancelled_by_client": "Cancelled by client",
    "cancelled_by_practice": "Cancelled by practice",
    "active": "Active", "completed": "Completed", "ended_early": "Ended early",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SESSION_ACTIONS = ("reschedule", "cancel", "attendance")
COURSE_ACTIONS = ("extend", "close")
# Outcomes offered when closing (free text in the API; these are the usual ones).
OUTCOMES = ("goals met", "client withdrew", "moved away", "referred on",
            "unable to attend", "clinician leaving")


def modality_view(key: str) -> dict[str, Any]:
    """A modality's label, and whether its plugin is enabled now."""
    m = enabled_modalities().get(key)
    return {"key": key, "label": m.label if m else key, "enabled": m is not None,
            "plugin": (m.plugin if m and m.plugin != "core" else None)}


def client_names(course_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Course id -> [(client id, name)] in one query."""
    out: dict[int, list[tuple[int, str]]] = {cid: [] for cid in course_ids}
    if not course_ids:
        return out
    rows = db.session.execute(
        select(CourseClient.course_id, Client.id, Client.name)
        .join(Client, Client.id == CourseClient.client_id)
        .where(CourseClient.course_id.in_(course_ids))
        .order_by(CourseClient.course_id, Client.name, Client.id))
    for course_id, client_id, name in rows:
        out[course_id].append((client_id, name))
    return out


def clinician_names() -> dict[int, str]:
    return {i: n for i, n in db.session.execute(select(Clinician.id, Clinician.name))}


def next_session(course: Course, now: datetime) -> TherapySession | None:
    """The first scheduled session that has not ended yet."""
    ahead = [s for s in course.sessions if s.status == "scheduled" and s.ends_at > now]
    return min(ahead, key=lambda s: s.starts_at, default=None)


def list_rows(courses: list[Course], user: User) -> list[dict[str, Any]]:
    """The courses list: the API's item for each, plus names and next session."""
    zone = practice_zone()
    now = utcnow()
    names = client_names([c.id for c in courses])
    clinicians = clinician_names()
    rows = []
    for c in courses:
        d = course_dict(c, user, zone, with_sessions=False)
        nxt = next_session(c, now)
        d.update(clients=names.get(c.id, []), clinician=clinicians.get(c.clinician_id, "?"),
                 modality_view=modality_view(c.modality),
                 next_session=nxt.starts_at if nxt else None,
                 next_number=nxt.number if nxt else None)
        rows.append(d)
    return rows


def room_label(room: Room | None) -> str:
    if room is None:
        return "?"
    return f"{room.name} ({room.site.name})" if room.site else room.name


def _local(instant: datetime, zone) -> datetime:
    return instant.astimezone(zone)


def session_rows(course: Course, view: dict, rooms: dict[int, Room],
                 names: dict[int, str]) -> list[dict[str, Any]]:
    """The API's sessions, with room names, attendance names and what may be done."""
    zone = practice_zone()
    now = utcnow()
    orm = {s.number: s for s in course.sessions}
    active = course.status == "active"
    rows = []
    for d in view["sessions"]:
        s = orm[d["number"]]
        start, end = _local(s.starts_at, zone), _local(s.ends_at, zone)
        started = s.starts_at <= now
        d = dict(d)
        d.update(
            start=start, end=end, started=started, room=room_label(rooms.get(s.room_id)),
            room_short=rooms[s.room_id].name if s.room_id in rooms else "?",
            status_label=STATUS_LABELS.get(s.status, s.status), cancelled=s.cancelled,
            attendance=[{"client_id": a["client_id"], "status": a["status"],
                         "name": names.get(a["client_id"], f"client {a['client_id']}")}
                        for a in d["attendance"]],
            can_move=active and s.status == "scheduled",
            can_cancel=active and s.status == "scheduled",
            # The service refuses attendance before the start and for cancelled
            # sessions; offering it there would only lead to a refusal.
            can_attend=(course.status != "ended_early") and started and not s.cancelled,
        )
        rows.append(d)
    return rows


def action_defaults(course: Course, row: dict | None) -> dict[str, dict[str, Any]]:
    """What each action's form starts with (before anything is typed)."""
    out: dict[str, dict[str, Any]] = {
        "extend": {"sessions": "1", "reason": ""},
        "close": {"outcome": "", "reason": ""},
    }
    if row is not None:
        out["reschedule"] = {"date": row["start"].date().isoformat(),
                             "start_time": row["start"].strftime("%H:%M"),
                             "room_id": "", "scope": "this"}
        out["cancel"] = {"by": "", "reason": "", "make_up": ""}
        out["attendance"] = {"make_up": ""}
    return out


def default_open(row: dict | None) -> str | None:
    """The action a session's panel opens with: attendance once it has started."""
    if row is None:
        return None
    if row["can_attend"] and row["status"] == "scheduled":
        return "attendance"
    if row["can_move"]:
        return "reschedule"
    if row["can_attend"]:
        return "attendance"
    return None


def course_context(course: Course, user: User, selected: int | None) -> dict[str, Any]:
    """Everything the course page shows, ``selected`` being the session whose
    action panel is open (or None)."""
    zone = practice_zone()
    view = course_dict(course, user, zone)
    rooms = {r.id: r for r in db.session.scalars(select(Room).order_by(Room.name, Room.id))}
    ids = set(course.client_ids)
    for s in course.sessions:
        ids.update(p.client_id for p in s.participants)
    clients = db.session.scalars(select(Client).where(Client.id.in_(ids))
                                 .order_by(Client.name, Client.id)).all() if ids else []
    names = {c.id: c.name for c in clients}
    rows = session_rows(course, view, rooms, names)
    row = next((r for r in rows if r["number"] == selected), None)
    capacity = len(course.client_ids)
    room_options = [("", f"Same room ({room_label(rooms.get(row['room_id']))})" if row else "")]
    room_options += [(str(r.id), room_label(r)) for r in sorted(
        rooms.values(), key=lambda r: (r.site.name if r.site else "", r.name, r.id))
        if r.active and r.capacity >= capacity]
    return {
        "course": view, "clients": clients, "names": names,
        "clinician": db.session.get(Clinician, course.clinician_id),
        "modality": modality_view(course.modality), "rooms": rooms,
        "room_name": lambda rid: room_label(rooms.get(rid)),
        "slot": {"weekday": WEEKDAYS[course.weekday], "start": course.start_time.strftime("%H:%M"),
                 "duration": course.duration_minutes, "interval": course.interval_weeks,
                 "room": room_label(rooms.get(course.room_id))},
        "sessions": rows, "row": row, "room_options": room_options,
        "defaults": action_defaults(course, row), "open": default_open(row),
        "status_labels": STATUS_LABELS, "outcomes": OUTCOMES,
        "is_group": len(course.client_ids) > 1,
    }
