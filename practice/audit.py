"""Write audit rows inside the caller's transaction (never commits itself)."""
from __future__ import annotations

from flask import g, has_request_context

from .extensions import db
from .models import AuditEntry


def actor_id() -> int | None:
    if has_request_context():
        user = getattr(g, "api_user", None) or getattr(g, "web_user", None)
        if user is not None:
            return user.id
    return getattr(g, "cli_user_id", None) if has_request_context() else None


def record(action: str, object_type: str, object_id: int | None, user_id: int | None = None,
           **details) -> AuditEntry:
    """Add an audit row; ``details`` must hold ids and field names only."""
    entry = AuditEntry(action=action, object_type=object_type, object_id=object_id,
                       user_id=user_id if user_id is not None else actor_id(),
                       details=details)
    db.session.add(entry)
    return entry
