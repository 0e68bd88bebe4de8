"""Closures pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from .common import ANY_ROLE, STAFF, page  # noqa: F401

bp = Blueprint("web_closures", __name__)


@bp.route("/closures")
@page(*STAFF)
def closures():
    return render_template("closures/index.html")
