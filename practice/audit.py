"""Write audit rows inside the caller's transaction (never commits itself),
except ``audit_refusal``, which records a refused request after its answer.

The table is append-only in the database (migration 0007: triggers refuse
UPDATE and DELETE on both engines). Details hold ids, field names and short
codes: never a password, a token, a client's name or a clinical value.
"""
from __future__ import annotations

import logging

from flask import g, has_request_context, request

from .extensions import db
from .models import AuditEntry

log = logging.getLogger(__name__)

# Keys a caller may never put in details, whatever their value.
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "secret"})


def actor_id() -> int | None:
    if has_request_context():
        user = getattr(g, "api_user", None) or getattr(g, "web_user", None)
        if user is not None:
            return user.id
    return getattr(g, "cli_user_id", None) if has_request_context() else None


def record(action: str, object_type: str, object_id: int | None, user_id: int | None = None,
           **details) -> AuditEntry:
    """Add an audit row; ``details`` must hold ids and field names only."""
    leaked = SECRET_KEYS & {k.lower() for k in details}
    if leaked:
        raise ValueError(f"audit details may not hold {sorted(leaked)}")
    entry = AuditEntry(action=action, object_type=object_type, object_id=object_id,
                       user_id=user_id if user_id is not None else actor_id(),
                       details=details)
    db.session.add(entry)
    return entry


def audit_refusal(status: int) -> None:
    """After a 403 answer to a signed-in user on an object's address
    (``/api/clients/<id>``...), or a 404 to a clinician (the one role from
    whom objects are hidden: another clinician's answer 404, as if they did
    not exist; for the other roles a 404 only means there is none), one row:
    action ``refused``, the object named by the address's first id, the
    route's pattern (never the address itself) and the method.

    The request's own transaction is rolled back first (a refused request
    changes nothing) and the row committed on its own.
    """
    user = getattr(g, "api_user", None)
    rule = request.url_rule
    args = request.view_args or {}
    if user is None or rule is None or not args:
        return
    if status == 404 and user.role != "clinician":
        return
    name, value = next(iter(args.items()))
    object_type = name.removesuffix("_id") if isinstance(value, int) else "object"
    try:
        db.session.rollback()
        db.session.add(AuditEntry(
            action="refused", object_type=object_type[:40],
            object_id=value if isinstance(value, int) and 0 <= value < 2**31 else None,
            user_id=user.id,
            details={"status": status, "method": request.method, "route": rule.rule}))
        db.session.commit()
    except Exception:  # never turn the refusal into a 500
        db.session.rollback()
        log.exception("could not audit a refused request")


def record_read(action: str, object_type: str, object_id: int | None, **details) -> None:
    """Audit a read (client records, clinical flags) and commit it now: a GET
    has no other write to ride with."""
    record(action, object_type, object_id, **details)
    db.session.commit()
