"""Clients pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from .common import ANY_ROLE, STAFF, page  # noqa: F401

bp = Blueprint("web_clients", __name__)


@bp.route("/clients")
@page(*STAFF)
def clients():
    return render_template("clients/index.html")
