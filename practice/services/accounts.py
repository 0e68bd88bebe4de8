"""User accounts: create, change role, link to a clinician, deactivate,
reset a password, with clear errors for bad input; every change audited
(role names and ids, never a password or token).

A password reset or a deactivation ends every bearer token and browser
session of the account at once (``auth.end_every_session``)."""
from __future__ import annotations

from sqlalchemy import func, select

from ..audit import record
from ..auth import end_every_session, hash_password
from ..extensions import db
from ..models import MAX_ID, Clinician, User
from ..models.auth import ROLES

MIN_PASSWORD = 8


class AccountError(ValueError):
    """Bad input for an account (422); ``field`` names the field concerned."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AccountConflict(AccountError):
    """The email is taken (409)."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must have at least {MIN_PASSWORD} characters.",
                           field="password")


def _check_clinician(clinician_id: int | None, role: str) -> None:
    if clinician_id is not None:
        # ids are 32-bit on PostgreSQL: a larger one names no clinician
        if not 0 < clinician_id <= MAX_ID or db.session.get(Clinician, clinician_id) is None:
            raise AccountError(f"Clinician {clinician_id} does not exist.",
                               field="clinician_id")
    elif role == "clinician":
        raise AccountError("A clinician account needs the clinician it belongs to "
                           "(clinician_id; on the command line --clinician-id).",
                           field="clinician_id")


def create_user(email: str, role: str, password: str, clinician_id: int | None = None) -> User:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    if (not local or not domain or len(email) > 254
            or any(ch.isspace() or ord(ch) < 32 for ch in email)):
        raise AccountError(f"{email!r} is not an email address.", field="email")
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.",
                           field="role")
    _check_password(password)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise AccountConflict(f"A user with email {email} already exists.", field="email")
    _check_clinician(clinician_id, role)
    user = User(email=email, role=role, password_hash=hash_password(password),
                clinician_id=clinician_id, active=True)
    db.session.add(user)
    db.session.flush()
    record("create", "user", user.id, role=role, clinician_id=clinician_id)
    db.session.commit()
    return user


def update_user(user: User, changes: dict, acting: User | None = None) -> User:
    """Change ``role``, ``clinician_id`` (None unlinks) and/or ``active``.

    An admin may not demote or deactivate their own account (the practice
    would risk losing its last admin). Deactivating ends every token and
    session of the account. Audited: the fields changed, with the new role.
    """
    role = changes.get("role", user.role)
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.",
                           field="role")
    clinician_id = changes["clinician_id"] if "clinician_id" in changes else user.clinician_id
    active = changes.get("active", user.active)
    if acting is not None and acting.id == user.id and (role != "admin" or not active):
        raise AccountError("You cannot demote or deactivate your own account; "
                           "another admin can.", field="role" if role != "admin" else "active")
    if clinician_id != user.clinician_id or role != user.role:
        _check_clinician(clinician_id, role)
    changed = [name for name, new in (("role", role), ("clinician_id", clinician_id),
                                      ("active", active)) if getattr(user, name) != new]
    if not changed:
        return user
    user.role, user.clinician_id = role, clinician_id
    ended = False
    if user.active and not active:
        user.active = False
        end_every_session(user)
        ended = True
    elif active and not user.active:
        user.active = True
    details = {"fields": changed}
    if "role" in changed:
        details["role"] = role
    if "clinician_id" in changed:
        details["clinician_id"] = clinician_id
    if ended:
        details["sessions_ended"] = True
    record("deactivate" if ended else "update", "user", user.id, **details)
    db.session.commit()
    return user


def reset_password(user: User, password: str) -> None:
    """Set a new password; every token and session of the account ends."""
    _check_password(password)
    user.password_hash = hash_password(password)
    revoked = end_every_session(user)
    record("password_reset", "user", user.id, tokens_revoked=revoked)
    db.session.commit()
