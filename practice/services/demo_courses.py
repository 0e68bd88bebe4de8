"""A handful of demo courses so the demo shows a real schedule."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from ..errors import AppError
from ..extensions import db
from ..models import Client, Clinician, Course, Room
from .booking import book_course
from .modalities import enabled_modalities

# (clinician email, room name, client names, weekday, start, sessions, modality, weeks ago)
DEMO_COURSES = [
    ("okafor@demo.practice", "Room 2", ["Alex Morgan"], 1, time(10), 16, "ipt", 4),
    ("okafor@demo.practice", "Room 2", ["Blake Carter"], 1, time(11), 12, "general", 2),
    ("lindqvist@demo.practice", "Room 1", ["Casey Jordan"], 0, time(9), 12, "general", 6),
    ("lindqvist@demo.practice", "Group Room", ["Drew Ellis", "Emery Fox", "Finley Grant"], 3,
     time(14), 16, "ipt-g", 1),
    ("russo@demo.practice", "Room 3", ["Gray Hughes"], 2, time(15), 12, "general", 0),
    ("patel@demo.practice", "Room 1", ["Harper Irving"], 4, time(9, 30), 8, "general", 3),
]


def book_demo_courses() -> int:
    """Book the demo courses that are not there yet; returns how many."""
    if db.session.scalar(select(Course.id).limit(1)) is not None:
        return 0
    today = date.today()
    enabled = enabled_modalities()
    made = 0
    for email, room_name, names, weekday, start, count, modality, weeks_ago in DEMO_COURSES:
        if modality not in enabled:
            modality = "general"
        clinician = db.session.scalar(select(Clinician).where(Clinician.email == email))
        room = db.session.scalar(select(Room).where(Room.name == room_name))
        clients = [db.session.scalar(select(Client.id).where(Client.name == n)) for n in names]
        if clinician is None or room is None or None in clients:
            continue
        first = today - timedelta(weeks=weeks_ago)
        first += timedelta(days=(weekday - first.weekday()) % 7)
        mod = enabled[modality]
        try:
            book_course({"client_ids": clients, "clinician_id": clinician.id,
                         "room_id": room.id, "modality": modality, "first_date": first,
                         "start_time": start, "session_count": count,
                         "duration_minutes": mod.default_duration,
                         "interval_weeks": mod.default_interval_weeks,
                         "label": f"Demo group {made + 1}" if len(clients) > 1 else None})
            made += 1
        except AppError:
            db.session.rollback()  # a demo course that cannot be booked is left out
    return made
