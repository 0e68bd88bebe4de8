"""Book a course pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from .common import ANY_ROLE, STAFF, page  # noqa: F401

bp = Blueprint("web_booking", __name__)


@bp.route("/book")
@page(*STAFF)
def book():
    return render_template("booking/index.html")
