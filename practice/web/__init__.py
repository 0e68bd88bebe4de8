"""The browser front end: server-rendered pages (Jinja), enhanced with htmx.

Each page module holds one blueprint (``bp``) and calls the same services as
the JSON API; views hold no business rule. Pages are signed in with
Flask-Login sessions and every form carries a CSRF token (Flask-WTF's
``CSRFProtect`` checks every unsafe request that is not under ``/api/``).
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask, request

from ..extensions import login_manager

# The page modules, each with a blueprint ``bp``; order is the menu's.
PAGE_MODULES = ("auth", "calendar", "booking", "courses", "clients", "closures")


def init_web(app: Flask) -> None:
    for name in PAGE_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
    login_manager.login_view = "web_auth.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    from .common import template_globals
    from .errors import init_errors, is_page_request

    app.context_processor(template_globals)
    app.add_template_filter(_localdt, "localdt")
    init_errors(app)  # HTML error pages outside /api and /feeds

    @app.after_request
    def _no_store_pages(resp):
        # Pages show health data and contact details: never kept by a cache.
        if (resp.mimetype == "text/html" and is_page_request()
                and not request.path.startswith("/static/")):
            resp.headers["Cache-Control"] = "no-store"
            resp.headers.setdefault("X-Content-Type-Options", "nosniff")
            resp.headers.setdefault("Referrer-Policy", "same-origin")
            resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp


def _localdt(value, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    """An instant (datetime or ISO text) as the practice's wall-clock time."""
    from datetime import datetime

    from ..services.calendar import practice_zone

    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(practice_zone())
    return value.strftime(fmt)
