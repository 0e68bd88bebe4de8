"""User accounts: create, with clear errors for bad input."""
from __future__ import annotations

from sqlalchemy import func, select

from ..audit import record
from ..auth import hash_password
from ..extensions import db
from ..models import MAX_ID, Clinician, User
from ..models.auth import ROLES

MIN_PASSWORD = 8


class AccountError(ValueError):
    pass


def create_user(email: str, role: str, password: str, clinician_id: int | None = None) -> User:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    if (not local or not domain or len(email) > 254
            or any(ch.isspace() or ord(ch) < 32 for ch in email)):
        raise AccountError(f"{email!r} is not an email address.")
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must have at least {MIN_PASSWORD} characters.")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise AccountError(f"A user with email {email} already exists.")
    if clinician_id is not None:
        # ids are 32-bit on PostgreSQL: a larger one names no clinician
        if not 0 < clinician_id <= MAX_ID or db.session.get(Clinician, clinician_id) is None:
            raise AccountError(f"Clinician {clinician_id} does not exist.")
    elif role == "clinician":
        raise AccountError("A clinician account needs --clinician-id.")
    user = User(email=email, role=role, password_hash=hash_password(password),
                clinician_id=clinician_id, active=True)
    db.session.add(user)
    db.session.flush()
    record("create", "user", user.id, role=role, clinician_id=clinician_id)
    db.session.commit()
    return user
