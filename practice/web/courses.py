"""Courses pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from .common import ANY_ROLE, STAFF, page  # noqa: F401

bp = Blueprint("web_courses", __name__)


@bp.route("/courses")
@page(*ANY_ROLE)
def courses():
    return render_template("courses/index.html")
