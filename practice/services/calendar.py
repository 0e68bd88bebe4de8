"""Closures and absences as a ``blocked(day, room_id)`` function, and the
practice's zone."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Absence, Closure, Room


def practice_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PRACTICE_TIMEZONE"])


class Blocker:
    """Answers "why can't we meet on this day in this room?" (or None)."""

    def __init__(self, clinician_id: int, start: date, end: date | None = None):
        q = select(Closure.date, Closure.site_id, Closure.reason).where(Closure.date >= start)
        if end is not None:
            q = q.where(Closure.date <= end)
        self.closures: dict[date, list[tuple[int | None, str]]] = {}
        for d, site_id, reason in db.session.execute(q):
            self.closures.setdefault(d, []).append((site_id, reason))
        self.absences = db.session.execute(
            select(Absence.start_date, Absence.end_date, Absence.reason)
            .where(Absence.clinician_id == clinician_id, Absence.end_date >= start)).all()
        self.room_sites = dict(db.session.execute(select(Room.id, Room.site_id)).all())

    def __call__(self, day: date, room_id: int) -> str | None:
        for site_id, reason in self.closures.get(day, ()):
            if site_id is None:
                return f"closure: practice closed{': ' + reason if reason else ''}"
            if site_id == self.room_sites.get(room_id):
                return f"closure: site closed{': ' + reason if reason else ''}"
        for a, b, reason in self.absences:
            if a <= day <= b:
                return f"absence: clinician away{': ' + reason if reason else ''}"
        return None
