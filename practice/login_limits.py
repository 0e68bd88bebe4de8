"""Failed sign-ins, limited in the database (SPEC section 6).

Five failures in fifteen minutes for one account from one address, and that
address waits (429 with ``Retry-After``) until the oldest counted failure
leaves the window. The rows live in ``login_failures``, so every worker (and
every app server on one PostgreSQL) sees the same count, and a restart
forgets nothing. The key is the account *and* the address: someone guessing
from elsewhere cannot lock the account's owner out.

Only the SHA-256 of the typed email is stored, never the text: a password
typed into the email field by mistake does not land in the database.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select

from .db import utcnow
from .extensions import db
from .models.auth import LoginFailure

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _settings() -> tuple[int, timedelta]:
    cfg = current_app.config
    return (int(cfg.get("LOGIN_MAX_FAILURES", MAX_FAILURES)),
            timedelta(seconds=int(cfg.get("LOGIN_FAILURE_WINDOW_SECONDS", WINDOW_SECONDS))))


def enabled() -> bool:
    return bool(current_app.config.get("LOGIN_LIMIT_ENABLED", True))


def email_key(email: str | None) -> str:
    typed = (email or "").strip().lower()[:254]
    return hashlib.sha256(typed.encode("utf-8", "surrogatepass")).hexdigest()


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def retry_after(email: str | None, address: str | None = None,
                now: datetime | None = None) -> int | None:
    """Seconds this address must wait before trying this account again, or
    None when it may try now."""
    if not enabled():
        return None
    limit, window = _settings()
    now = now or utcnow()
    ats = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email_hash == email_key(email),
               LoginFailure.address == (address or client_address()),
               LoginFailure.at > now - window)
        .order_by(LoginFailure.at)).all()
    if len(ats) < limit:
        return None
    # Once this many of the oldest have left the window, fewer than ``limit``
    # remain (more than ``limit`` only if two workers counted at one instant).
    frees_at = ats[len(ats) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def note_failure(email: str | None, address: str | None = None) -> None:
    """Count a failed sign-in (in the caller's transaction; it commits), and
    forget failures that have left the window."""
    if not enabled():
        return
    _, window = _settings()
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))
    db.session.add(LoginFailure(email_hash=email_key(email),
                                address=address or client_address(), at=now))


def wait_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else \
        f"{seconds} second{'s' if seconds != 1 else ''}"
    return (f"Too many failed sign-ins for this account from your address. "
            f"Try again in {when}.")
