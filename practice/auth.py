"""Passwords (argon2id), bearer tokens and role checks.

API requests authenticate with ``Authorization: Bearer <token>``; only the
SHA-256 of a token is stored, so a leaked database holds no usable token.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from sqlalchemy import select

from .db import utcnow
from .errors import Forbidden, Unauthorized
from .extensions import db, login_manager
from .models import ApiToken, User

def _hasher() -> tuple[PasswordHasher, str]:
    """The app's argon2id hasher and a dummy hash made with it.

    The library's recommended parameters unless ``ARGON2_PARAMS`` says
    otherwise (the test suite uses cheap ones). The dummy hash is verified when
    an email is unknown, so the time taken does not reveal which emails have
    accounts.
    """
    ext = current_app.extensions
    if "practice_hasher" not in ext:
        hasher = PasswordHasher(**(current_app.config.get("ARGON2_PARAMS") or {}))
        ext["practice_hasher"] = (hasher, hasher.hash("not a password"))
    return ext["practice_hasher"]


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(user: User | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.is_active


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token (256 random bits); returns the plain token once."""
    plain = secrets.token_urlsafe(32)
    hours = int(current_app.config["TOKEN_LIFETIME_HOURS"])
    row = ApiToken(user_id=user.id, token_hash=hash_token(plain),
                   expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(row)
    return plain, row


def user_from_bearer() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    g.api_token_id = row.id
    return row.user


def user_from_session() -> User | None:
    """The signed-in browser user, for the pages' own calls to the API.

    The session cookie is sent by the browser on its own, so an unsafe request
    it authenticates must also carry the page's CSRF token (``X-CSRFToken``);
    bearer tokens need none, as no browser adds them by itself.
    """
    from flask_login import current_user

    from .extensions import csrf

    if not current_user.is_authenticated:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_app.config.get(
            "WTF_CSRF_ENABLED", True):
        csrf.protect()
    return current_user._get_current_object()


EPOCH_KEY = "_practice_epoch"


def start_browser_session(user: User) -> None:
    """Sign ``user`` in (Flask-Login), remembering their session epoch."""
    from flask import session
    from flask_login import login_user

    login_user(user)
    session[EPOCH_KEY] = user.session_epoch


def end_every_session(user: User) -> int:
    """A password change or a deactivation: every bearer token of ``user`` is
    deleted and every browser session stops at its next request (the epoch it
    remembers no longer matches, in whichever worker). Returns the number of
    tokens revoked. In the caller's transaction."""
    from sqlalchemy import delete

    user.session_epoch = (user.session_epoch or 0) + 1
    result = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return result.rowcount or 0


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, unless the account has been deactivated or its
    sessions ended (a cookie from before a password change)."""
    from flask import session

    try:
        user = db.session.get(User, int(user_id))
    except (ValueError, OverflowError):
        return None
    if user is None or not user.is_active or session.get(EPOCH_KEY) != user.session_epoch:
        return None
    return user


def current_api_user() -> User:
    user = getattr(g, "api_user", None)
    if user is None:
        raise Unauthorized()
    return user


def roles_required(*roles: str):
    """View decorator: 401 without a valid token, 403 for other roles."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_api_user()
            if user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        # Read before the body is (see practice.api.roles_for_request), so a
        # request without credentials gets its 401 before any 400 or 422.
        wrapper.required_roles = tuple(roles)
        return wrapper

    return decorator


ANY_ROLE = ("admin", "front_desk", "clinician")
