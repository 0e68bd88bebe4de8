"""Calendar pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from .common import ANY_ROLE, STAFF, page  # noqa: F401

bp = Blueprint("web_calendar", __name__)


@bp.route("/calendar")
@page(*ANY_ROLE)
def calendar():
    return render_template("calendar/index.html")
