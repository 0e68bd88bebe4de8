"""What every page shares: the role guard, the menu, form helpers."""
from __future__ import annotations

from collections.abc import Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError

from ..errors import AppError

STAFF = ("admin", "front_desk")
ANY_ROLE = ("admin", "front_desk", "clinician")

# (endpoint, label, roles) in menu order; a page module's endpoint appears
# only to the roles that may open it.
MENU = (
    ("web_calendar.calendar", "Calendar", ANY_ROLE),
    ("web_booking.book", "Book a course", STAFF),
    ("web_courses.courses", "Courses", ANY_ROLE),
    ("web_clients.clients", "Clients", STAFF),
    ("web_closures.closures", "Closures", STAFF),
)


def page(*roles: str):
    """View decorator for pages: sign-in first (and back), then the role.

    Sets ``g.api_user`` so the services and views shared with the API see the
    same user whichever way the request was authenticated.
    """
    allowed = roles or ANY_ROLE

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("web_auth.sign_in", next=local_path()))
            if current_user.role not in allowed:
                abort(403)
            g.api_user = current_user._get_current_object()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def local_path() -> str:
    """The path and query of this request, to come back to after sign-in."""
    qs = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{qs}" if qs else "")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def start_page_for(user) -> str:
    """Each role's own start page."""
    if user.role == "clinician":
        return url_for("web_calendar.calendar", view="week", by="clinician")
    return url_for("web_calendar.calendar", view="day", by="clinician")


def menu_for(user) -> list[tuple[str, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [(url_for(endpoint), label) for endpoint, label, roles in MENU if user.role in roles]


def template_globals() -> dict[str, Any]:
    from flask import current_app

    return {"menu": menu_for(current_user), "practice_name": current_app.config["PRACTICE_NAME"],
            "current_endpoint": request.endpoint or ""}


def load_form(schema: Schema, data: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """Validate form data with the API's own schema: (values, errors by field).

    Empty fields are left out so the schema's defaults and "required"
    messages apply as they do to JSON.
    """
    cleaned = {k: v for k, v in data.items() if v not in ("", None, [])}
    try:
        return schema.load(cleaned), {}
    except ValidationError as err:
        return {}, flatten_errors(err.messages)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, val in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(val, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = " ".join(messages)
    elif isinstance(messages, list):
        for i, val in enumerate(messages):
            out.update(flatten_errors(val, f"{prefix}[{i}]"))
    else:
        out[prefix or "_schema"] = str(messages)
    return out


def error_view(err: AppError) -> dict[str, Any]:
    """An AppError as the template's ``refusal``: message, violations, conflicts."""
    from ..services.conflicts import conflicts_for

    d = err.to_dict()
    if d.get("conflicts"):  # a clinician reads another's clash only as "busy"
        d["conflicts"] = conflicts_for(current_user, d["conflicts"])
    return {"status": err.status, "code": d.get("error"), "message": d.get("message"),
            "violations": d.get("violations") or [], "conflicts": d.get("conflicts") or [],
            "warnings": d.get("warnings") or []}
