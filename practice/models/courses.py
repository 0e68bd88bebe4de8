"""Courses, their sessions, the per-client participant rows and flags.

Overlap invariants (clinician, room, client) are enforced by the database:
exclusion constraints on PostgreSQL and triggers on SQLite, both created by
the migrations. ``clinician_id`` is copied onto each session, and the session
times onto each participant row, so those constraints need no joins.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer,
                        String, Text, Time, UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, utcnow
from ..extensions import db

COURSE_STATUSES = ("active", "completed", "ended_early")
SESSION_STATUSES = ("scheduled", "attended", "no_show", "cancelled_by_client",
                    "cancelled_by_practice")
CANCELLED = ("cancelled_by_client", "cancelled_by_practice")


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'completed', 'ended_early')", name="ck_course_status"),
        CheckConstraint("interval_weeks BETWEEN 1 AND 8", name="ck_course_interval"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_course_weekday"),
        # The availability search asks for the longest course (migration 0005).
        Index("ix_courses_duration", "duration_minutes"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    modality: Mapped[str] = mapped_column(String(50), default="general", index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    planned_sessions: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    interval_weeks: Mapped[int] = mapped_column(Integer, default=1)
    first_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    outcome: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modality_data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    clients: Mapped[list[CourseClient]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CourseClient.client_id")
    sessions: Mapped[list[TherapySession]] = relationship(
        back_populates="course", cascade="all, delete-orphan",
        order_by="TherapySession.number", lazy="selectin")
    flags: Mapped[list[CourseFlag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CourseFlag.id")

    @property
    def client_ids(self) -> list[int]:
        return [c.client_id for c in self.clients]

    def counted_sessions(self) -> list[TherapySession]:
        """The sessions "session k of N" counts (see ``counted``)."""
        return counted(self.sessions)


def counted(sessions) -> list:
    """Of one course's sessions (ORM objects or rows with ``status``,
    ``number``, ``makes_up`` and ``starts_at``), those "session k of N"
    counts, in time order: not cancelled, and not a missed session whose
    place a make-up has taken."""
    sessions = list(sessions)
    made_up = {s.makes_up for s in sessions if s.makes_up is not None}
    return sorted((s for s in sessions if s.status not in CANCELLED
                   and not (s.status == "no_show" and s.number in made_up)),
                  key=lambda s: s.starts_at)


class CourseClient(db.Model):
    __tablename__ = "course_clients"
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True, index=True)


_COVERED = ("starts_at", "ends_at", "status", "updated_at", "sequence", "course_id", "id")


class TherapySession(db.Model):
    """One occurrence of a course (the SPEC's "session")."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("course_id", "number", name="uq_sessions_course_number"),
        CheckConstraint("ends_at > starts_at", name="ck_sessions_order"),
        CheckConstraint(
            "status IN ('scheduled', 'attended', 'no_show', 'cancelled_by_client', "
            "'cancelled_by_practice')", name="ck_sessions_status"),
        # Covering (migration 0004): a feed's change check and the conflict
        # pre-check read only the index.
        Index("ix_sessions_clinician_start", "clinician_id", *_COVERED),
        Index("ix_sessions_room_start", "room_id", *_COVERED, "clinician_id"),
        Index("ix_sessions_start", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(30), default="scheduled")
    is_make_up: Mapped[bool] = mapped_column(Boolean, default=False)
    # The number of the (cancelled or missed) session this one makes up.
    makes_up: Mapped[int | None] = mapped_column(Integer)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancelled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Feed identity: the UID never changes; SEQUENCE rises on every change.
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    participants: Mapped[list[SessionParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="selectin",
        order_by="SessionParticipant.client_id")

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED


class SessionParticipant(db.Model):
    """One client in one session: attendance, and the client-overlap guard."""

    __tablename__ = "session_participants"
    __table_args__ = (
        UniqueConstraint("session_id", "client_id", name="uq_participant"),
        Index("ix_participants_client_start", "client_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    attendance: Mapped[str | None] = mapped_column(String(20))

    session: Mapped[TherapySession] = relationship(back_populates="participants")


class CourseFlag(db.Model):
    """A flag raised on a course by a plugin; closed (not deleted) when it ends."""

    __tablename__ = "course_flags"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'high')", name="ck_flag_severity"),
        Index("ix_flags_open", "course_id", "code", "closed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    plugin: Mapped[str | None] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    # Who may see it: "all" staff, "clinical" (treating clinician and admins)
    # or "clinician" (the treating clinician only, e.g. a safety review).
    audience: Mapped[str] = mapped_column(String(10), default="all")
    message: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Several flags of one code (migration 0006): see ``FlagSpec.ref``.
    ref: Mapped[str | None] = mapped_column(String(120))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    # Held flags close only when a person acknowledges them, never by refresh.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ack_outcome: Mapped[str | None] = mapped_column(String(40))
    ack_note: Mapped[str | None] = mapped_column(Text)
