"""Client pages (admin, front desk): the searchable list, a client's page
with contact details and courses, and the create and edit forms.

The search is the API's own (``GET /api/clients?q=``: part of the name, any
case, or an exact date of birth). What is typed in the search box is posted
and kept in the signed session, not put in the address: a client's name
never appears in a URL (addresses carry ids only), so it cannot end up in
an access log or the browser's history. ``GET /clients?q=`` still works, as
in the API, for a link that chooses to.

The forms validate with the API's ``ClientSchema`` (``load_form``); errors
are shown next to their fields with everything typed kept. Messages after a
change name no client.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from ..api.common import paginate
from ..api.schemas import ClientSchema
from ..audit import record_read
from ..extensions import db
from ..models import Client
from ..services import directory as svc
from ..services.directory import client_search
from ..services.course_view import course_list_query
from . import course_page as cp
from .common import STAFF, page
from .form_data import check_form

bp = Blueprint("web_clients", __name__)

PAGE_SIZE = 25
SEARCH_KEY = "client_search"
FIELDS = ("name", "date_of_birth", "email", "phone")
OPTIONAL = ("date_of_birth", "email", "phone")


def _offset() -> int:
    text = request.args.get("offset", "")
    return int(text) if text.isdigit() and len(text) < 9 else 0


@bp.route("/clients", methods=["GET", "POST"])
@page(*STAFF)
def clients():
    """The clients, by name, searched by name or date of birth."""
    if request.method == "POST":
        q = (request.form.get("q") or "").strip()[:200]
        if q and request.form.get("clear") is None:
            session[SEARCH_KEY] = q
        else:
            session.pop(SEARCH_KEY, None)
        return redirect(url_for(".clients"), code=303)
    q = (request.args.get("q") or session.get(SEARCH_KEY) or "").strip()[:200]
    query = select(Client).order_by(Client.name, Client.id)
    if q:
        query = query.where(client_search(q))
    offset = _offset()
    result = paginate(query, {"limit": PAGE_SIZE, "offset": offset}, db.session)
    # As the API: who read which client records (ids only, never the search text).
    record_read("list", "client", None, client_ids=[c.id for c in result["items"]],
                searched=bool(q))
    return render_template("clients/index.html", clients=result["items"], total=result["total"],
                           q=q, offset=offset, limit=PAGE_SIZE)


def _client(client_id: int) -> Client:
    return svc.get_or_404(Client, client_id, "Client")


@bp.route("/clients/<int:client_id>")
@page(*STAFF)
def client(client_id: int):
    """A client's contact details and courses."""
    c = _client(client_id)
    record_read("view", "client", c.id)
    courses = db.session.scalars(course_list_query(g.api_user, {"client_id": c.id})).all()
    rows = cp.list_rows(list(courses), g.api_user)
    rows.sort(key=lambda r: (r["status"] != "active", -r["id"]))
    return render_template("clients/client.html", client=c, rows=rows,
                           status_labels=cp.STATUS_LABELS)


def _form_values(form) -> dict[str, str]:
    return {k: (form.get(k) or "").strip() for k in FIELDS}


def _client_form(client: Client | None, values: dict, errors: dict, status: int = 200):
    return render_template("clients/form.html", client=client, values=values,
                           errors=errors, today=date.today().isoformat()), status


@bp.route("/clients/new", methods=["GET", "POST"])
@page(*STAFF)
def new_client():
    """Create a client with the API's ClientSchema."""
    if request.method == "GET":
        return _client_form(None, dict.fromkeys(FIELDS, ""), {})
    schema = ClientSchema()
    data, errors = check_form(schema, request.form)
    if errors:
        return _client_form(None, _form_values(request.form), errors, 422)
    created = svc.create_client(data)
    flash("Client created.", "success")
    return redirect(url_for(".client", client_id=created.id), code=303)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@page(*STAFF)
def edit_client(client_id: int):
    """Change a client's name, date of birth or contact details."""
    c = _client(client_id)
    if request.method == "GET":
        record_read("view", "client", c.id)
        values = {"name": c.name, "email": c.email or "", "phone": c.phone or "",
                  "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else ""}
        return _client_form(c, values, {})
    schema = ClientSchema()
    data, errors = check_form(schema, request.form)
    if errors:
        return _client_form(c, _form_values(request.form), errors, 422)
    # A field emptied in the form clears it (load_form leaves empty fields out).
    for key in OPTIONAL:
        data.setdefault(key, None)
    changed = any(getattr(c, k) != v for k, v in data.items())
    svc.update_client(c, data)
    flash("Client details saved." if changed else "Nothing was changed.", "success")
    return redirect(url_for(".client", client_id=c.id), code=303)
