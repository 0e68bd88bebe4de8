"""Clinicians (with working hours and modalities) and clients."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, utcnow
from ..extensions import db


class Clinician(db.Model):
    __tablename__ = "clinicians"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    working_hours: Mapped[list[WorkingHours]] = relationship(
        cascade="all, delete-orphan", order_by="(WorkingHours.weekday, WorkingHours.start)",
        lazy="selectin")
    modality_rows: Mapped[list[ClinicianModality]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    @property
    def modalities(self) -> list[str]:
        return sorted(m.modality for m in self.modality_rows)


class ClinicianModality(db.Model):
    __tablename__ = "clinician_modalities"
    clinician_id: Mapped[int] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), primary_key=True)
    modality: Mapped[str] = mapped_column(String(50), primary_key=True)


class WorkingHours(db.Model):
    """One block of weekly working time; a day may have several."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_working_hours_weekday"),
        CheckConstraint("start_time < end_time", name="ck_working_hours_order"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column("start_time", Time)
    end: Mapped[time] = mapped_column("end_time", Time)


class Client(db.Model):
    """Health information: see SPEC section 6. Never log or feed the name."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def initials(self) -> str:
        return initials_of(self.name)


def initials_of(name: str) -> str:
    """First letters of the first and the last name: "Zebediah Quux-Testperson"
    gives "ZQ" (a double-barrelled surname is one name). The one rule for
    feeds, calendars and pages."""
    words = [w for w in name.split() if any(ch.isalpha() for ch in w)]
    if not words:
        return "?"
    picked = words[:1] + words[-1:] if len(words) > 1 else words
    return "".join(next(ch for ch in w if ch.isalpha()).upper() for w in picked)
