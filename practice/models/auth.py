"""User accounts and API tokens (only their hash is stored)."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, utcnow
from ..extensions import db

ROLES = ("admin", "front_desk", "clinician")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'front_desk', 'clinician')", name="ck_users_role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinicians.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by a password change or a deactivation: a browser session keeps
    # the value it signed in with, and one that no longer matches is signed
    # out (in every worker: the value lives here, not in a worker's memory).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(db.Model):
    """One failed sign-in, for the limit (5 in 15 minutes per account and
    address). ``email_hash`` is the SHA-256 of what was typed, trimmed and
    lowercased (the account may not exist; a password typed into the email
    field by mistake is never stored); rows older than the window are deleted
    as new ones come."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "email_hash", "address", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
