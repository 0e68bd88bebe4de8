"""The IPT plugin's own tables: PHQ-9 measures and their history.

A measure belongs to one client and one session of a course, and is unique
per client, session and instrument among the measures not voided. It is
entered as its nine item scores; the total is their sum and item 9 is kept
apart for the safety review. Rows from before items were entered (plugin
revision ``ipt_0005``) have ``items`` NULL: "entered without items".

Every entry, correction and voiding adds a ``IptMeasureVersion``: the
history is never rewritten.

Created by the plugin's Alembic branch (``plugins/ipt/migrations``), which
runs whether or not the plugin is enabled, so disabling it loses nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from practice.db import UTCDateTime, utcnow
from practice.extensions import db

LIVE = text("voided_at IS NULL")


class IptMeasure(db.Model):
    """A PHQ-9 of one client at one session: its items, total and item 9."""

    __tablename__ = "ipt_measures"
    __table_args__ = (
        Index("uq_ipt_measure_client_session", "course_id", "client_id", "session_number",
              "instrument", unique=True, sqlite_where=LIVE, postgresql_where=LIVE),
        CheckConstraint("phq9_total BETWEEN 0 AND 27", name="ck_ipt_phq9_total"),
        CheckConstraint("phq9_item9 BETWEEN 0 AND 3", name="ck_ipt_phq9_item9"),
        # Item 9 is one of the nine items summed into the total.
        CheckConstraint("phq9_item9 <= phq9_total", name="ck_ipt_phq9_item9_in_total"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    session_number: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str] = mapped_column(String(20), default="phq9")
    items: Mapped[list | None] = mapped_column(JSON)
    phq9_total: Mapped[int] = mapped_column(Integer)
    phq9_item9: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[IptMeasureVersion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="IptMeasureVersion.version")


class IptMeasureVersion(db.Model):
    """One step of a measure's history: ``entered``, ``corrected`` or ``voided``."""

    __tablename__ = "ipt_measure_versions"
    __table_args__ = (
        CheckConstraint("action IN ('entered', 'corrected', 'voided')",
                        name="ck_ipt_measure_version_action"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("ipt_measures.id", ondelete="CASCADE"),
                                            index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    items: Mapped[list | None] = mapped_column(JSON)
    phq9_total: Mapped[int] = mapped_column(Integer)
    phq9_item9: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
