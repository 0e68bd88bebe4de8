"""Courses and sessions written straight through the models, for feed tests.

It does what the booking service does to the rows a feed reads: local
wall-clock times built with zoneinfo and stored in UTC, a UID per session
(``<uuid4>@practice``), one participant row per client, and on every change
to time, room or status a higher SEQUENCE and a new ``updated_at``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

from practice.extensions import db
from practice.models import (Course, CourseClient, FeedToken, SessionParticipant,
                             TherapySession)
from practice.services.feeds import issue_feed

# A fixed creation time, so "unchanged" rows really are unchanged.
CREATED = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def local_series(first: date, start: time, weeks: int, tz: str,
                 interval_weeks: int = 1) -> list[datetime]:
    """Aware starts at the same wall-clock time every ``interval_weeks``."""
    zone = ZoneInfo(tz)
    return [datetime.combine(first + timedelta(weeks=k * interval_weeks), start, tzinfo=zone)
            for k in range(weeks)]


def make_course(*, clinician_id: int, room_id: int, client_ids: list[int], first: date,
                start: time = time(17, 0), weeks: int = 4, duration: int = 50,
                tz: str = "America/New_York", label: str | None = None,
                modality: str = "general", modality_data: dict | None = None,
                interval_weeks: int = 1, planned: int | None = None) -> int:
    """A course and its sessions; returns the course id."""
    starts = local_series(first, start, weeks, tz, interval_weeks)
    course = Course(clinician_id=clinician_id, room_id=room_id, modality=modality,
                    label=label, planned_sessions=planned or weeks,
                    weekday=first.weekday(), start_time=start, duration_minutes=duration,
                    interval_weeks=interval_weeks, first_date=first, timezone=tz,
                    modality_data=modality_data or {}, created_at=CREATED,
                    updated_at=CREATED)
    course.clients = [CourseClient(client_id=c) for c in client_ids]
    db.session.add(course)
    db.session.flush()
    for number, local in enumerate(starts, start=1):
        begin = local.astimezone(timezone.utc)
        end = begin + timedelta(minutes=duration)
        session = TherapySession(
            course_id=course.id, number=number, clinician_id=clinician_id, room_id=room_id,
            starts_at=begin, ends_at=end, status="scheduled", uid=f"{uuid4()}@practice",
            sequence=0, created_at=CREATED, updated_at=CREATED)
        session.participants = [SessionParticipant(client_id=c, starts_at=begin, ends_at=end,
                                                   active=True) for c in client_ids]
        db.session.add(session)
    db.session.commit()
    return course.id


def backdate() -> None:
    """Set every directory row's ``updated_at`` to CREATED, as if made long ago
    (so a change made now shows in a feed's second-resolution Last-Modified)."""
    from practice.models import Client, Clinician, Room

    for model in (Client, Clinician, Room):
        db.session.execute(db.update(model).values(updated_at=CREATED))
    db.session.commit()


def sessions_of(course_id: int) -> list[TherapySession]:
    return list(db.session.scalars(db.select(TherapySession)
                                   .where(TherapySession.course_id == course_id)
                                   .order_by(TherapySession.number)))


def _touch(session: TherapySession) -> None:
    session.sequence += 1
    session.updated_at = datetime.now(timezone.utc)


def move_session(session_id: int, new_start: datetime, room_id: int | None = None) -> None:
    """Reschedule one session, as the booking service does."""
    session = db.session.get(TherapySession, session_id)
    length = session.ends_at - session.starts_at
    session.starts_at = new_start.astimezone(timezone.utc)
    session.ends_at = session.starts_at + length
    if room_id is not None:
        session.room_id = room_id
    for p in session.participants:
        p.starts_at, p.ends_at = session.starts_at, session.ends_at
    _touch(session)
    db.session.commit()


def cancel_session(session_id: int, by: str = "client") -> None:
    session = db.session.get(TherapySession, session_id)
    session.status = f"cancelled_by_{by}"
    session.cancelled_by = by
    session.cancelled_at = datetime.now(timezone.utc)
    for p in session.participants:
        p.active = False  # a cancelled session frees the client's time
    _touch(session)
    db.session.commit()


def feed_link(*, clinician_id: int | None = None, room_id: int | None = None,
              privacy: str = "initials") -> str:
    """A live feed link's path (``/feeds/<token>.ics``), made by the service."""
    from practice.models import Clinician, Room

    owner = (db.session.get(Clinician, clinician_id) if clinician_id is not None
             else db.session.get(Room, room_id))
    issued = issue_feed(owner, privacy)
    return f"/feeds/{issued.token}.ics"


def live_tokens() -> list[FeedToken]:
    return list(db.session.scalars(db.select(FeedToken).where(FeedToken.revoked_at.is_(None))))
