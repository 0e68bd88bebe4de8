"""The IPT plugin's own table: PHQ-9 measures, one per course session.

Created by the plugin's Alembic branch (``plugins/ipt/migrations``), which
runs whether or not the plugin is enabled, so disabling it loses nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from practice.db import UTCDateTime, utcnow
from practice.extensions import db


class IptMeasure(db.Model):
    """A PHQ-9 recorded at one session: the total (0-27) and item 9 (0-3)."""

    __tablename__ = "ipt_measures"
    __table_args__ = (
        UniqueConstraint("course_id", "session_number", "instrument",
                         name="uq_ipt_measure_session"),
        CheckConstraint("phq9_total BETWEEN 0 AND 27", name="ck_ipt_phq9_total"),
        CheckConstraint("phq9_item9 BETWEEN 0 AND 3", name="ck_ipt_phq9_item9"),
        # Item 9 is one of the nine items summed into the total.
        CheckConstraint("phq9_item9 <= phq9_total", name="ck_ipt_phq9_item9_in_total"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    session_number: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str] = mapped_column(String(20), default="phq9")
    phq9_total: Mapped[int] = mapped_column(Integer)
    phq9_item9: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
