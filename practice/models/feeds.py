"""Feed links (token hash, privacy) and the record of every fetch."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow
from ..extensions import db

PRIVACY_LEVELS = ("busy", "initials", "full")


class FeedToken(db.Model):
    __tablename__ = "feed_tokens"
    __table_args__ = (
        CheckConstraint("privacy IN ('busy', 'initials', 'full')", name="ck_feed_privacy"),
        CheckConstraint("(clinician_id IS NULL) <> (room_id IS NULL)", name="ck_feed_owner"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    clinician_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    privacy: Mapped[str] = mapped_column(String(10), default="initials")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedFetch(db.Model):
    __tablename__ = "feed_fetches"
    id: Mapped[int] = mapped_column(primary_key=True)
    feed_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("feed_tokens.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer)
    user_agent: Mapped[str | None] = mapped_column(String(300))
