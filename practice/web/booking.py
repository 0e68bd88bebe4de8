"""The booking page: choose clients and a clinician or modality, find a
weekly slot in the grid or the ranked list, preview the whole series, book.

It works as plain HTML, one step at a time:

- ``GET /book``: the choices; with ``find=1`` the slot grid
  (:mod:`practice.services.slot_grid`) and the ranked slots
  (as :func:`practice.services.availability.find_slots` and
  ``GET /api/availability`` give them); with a picked slot (``pick_*``) the series'
  preview (:func:`practice.services.booking.book_course` with ``dry_run``,
  as ``POST /api/courses`` with ``"dry_run": true``);
- ``POST /book``: the same values, booked for real, then the course page;
  a refusal (409, 422) shows the page again, everything kept, the refusal
  next to the Book button;
- ``POST /book/clients``: search clients (the API's own ``?q=`` filter) or
  add one of the results; ``POST /book/clients/new`` creates a client
  (validated by the API's ``ClientSchema``) and adds them.

Searches are posted, never put in the address: a client's name is never in
a URL (URLs carry client ids only). htmx swaps the page's working area in
place and searches as one types; the script is only an enhancement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..api.course_schemas import AvailabilityArgs, BookingSchema
from ..api.schemas import ClientSchema
from ..errors import AppError
from ..extensions import db
from ..models import MAX_ID, Client, Clinician, ClinicianModality, Room
from ..services.booking import book_course
from ..services.calendar import practice_zone
from ..services.directory import client_search, create_client
from ..services.modalities import core_bounds_violations, enabled_modalities
from ..services.slot_grid import slot_grid
from .common import STAFF, error_view, load_form, page

bp = Blueprint("web_booking", __name__)

# The choices, as typed (text), in the order the form shows them.
CHOICES = ("modality", "clinician", "session_count", "duration_minutes", "interval_weeks",
           "from", "earliest", "latest", "weekday", "min_capacity", "step")
PICK = ("pick_clinician", "pick_room", "pick_date", "pick_time")
# The API's names for the form's fields (AvailabilityArgs, the grid, BookingSchema).
API_NAMES = {"clinician": "clinician_id", "session_count": "weeks"}
FORM_NAMES = {"clinician_id": "clinician", "weeks": "session_count", "date_from": "from",
              "room_id": "pick_room", "first_date": "pick_date", "start_time": "pick_time"}
PICKED = {"clinician_id": "pick", "room_id": "pick", "first_date": "pick", "start_time": "pick"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LABELS = {"modality": "Modality", "clinician": "Clinician", "session_count": "Sessions",
          "duration_minutes": "Minutes each", "interval_weeks": "Every … weeks",
          "from": "Earliest date", "earliest": "Start no earlier than",
          "latest": "End no later than", "weekday": "Weekday",
          "min_capacity": "Room holds at least", "step": "Grid rows every",
          "client_ids": "Clients", "pick": "Picked slot"}
SEARCH_LIMIT = 10
SLOT_LIMIT = 10


@dataclass
class State:
    """Everything the page's forms carry: the chosen clients' ids, the
    choices as typed, whether to find slots, and the picked slot."""

    values: dict[str, str]
    client_ids: list[int] = field(default_factory=list)
    bad_ids: bool = False
    find: bool = False
    pick: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, source) -> State:
        """From a query string or a posted form (a MultiDict)."""
        modalities = enabled_modalities()
        key = source.get("modality") or ("general" if "general" in modalities
                                          else next(iter(modalities), "general"))
        mod = modalities.get(key)
        defaults = {"modality": key, "clinician": "", "from": _today().isoformat(),
                    "session_count": str(mod.default_sessions) if mod else "",
                    "duration_minutes": str(mod.default_duration) if mod else "",
                    "interval_weeks": str(mod.default_interval_weeks) if mod else "",
                    "earliest": "", "latest": "", "weekday": "", "min_capacity": "",
                    "step": "30"}
        values = {}
        for name in CHOICES:
            text = (source.get(name) or "").strip()[:40]
            # An emptied count, duration, interval or date takes its default again.
            values[name] = text if text or name in ("earliest", "latest", "weekday",
                                                    "min_capacity", "clinician") else defaults[name]
        ids, bad = [], False
        for text in source.getlist("client_ids"):
            if text.isdigit() and 0 < int(text) <= MAX_ID:
                if int(text) not in ids:
                    ids.append(int(text))
            else:
                bad = True
        # A slot is picked by one button's value ("clinician,room,date,time"),
        # and carried on in four fields.
        parts = (source.get("pick") or "").split(",")
        if len(parts) == len(PICK):
            pick = {k: v.strip()[:20] for k, v in zip(PICK, parts)}
        else:
            pick = {k: (source.get(k) or "").strip()[:20] for k in PICK}
        return cls(values, ids, bad, source.get("find") == "1" or any(pick.values()),
                   pick if all(pick.values()) else {})

    @property
    def picked(self) -> str:
        """The picked slot as a pick button's value ("" when none)."""
        return ",".join(self.pick[k] for k in PICK) if self.pick else ""

    def pairs(self, *, find: bool | None = None, pick: dict | None = None,
              client_ids: list[int] | None = None) -> list[tuple[str, str]]:
        """(name, value) pairs for a URL or hidden inputs, with changes."""
        out = [("client_ids", str(i)) for i in (self.client_ids if client_ids is None
                                                 else client_ids)]
        out += [(k, v) for k, v in self.values.items() if v]
        if self.find if find is None else find:
            out.append(("find", "1"))
        out += [(k, v) for k, v in (self.pick if pick is None else pick).items() if v]
        return out

    def url(self, anchor: str = "", **changes) -> str:
        return url_for("web_booking.book") + "?" + urlencode(self.pairs(**changes)) + (
            f"#{anchor}" if anchor else "")


def _today():
    return datetime.now(practice_zone()).date()


def _int(text: str) -> Any:
    """A form's digits as the JSON number the API's strict schemas expect."""
    return int(text) if text.isdigit() and len(text) < 10 else text


def _field_errors(violations: list[dict], fallback: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in violations:
        name = FORM_NAMES.get(v.get("field") or "", v.get("field") or fallback)
        who = f", plugin {v['plugin']}" if v.get("plugin") else ""
        text = f"{v['message']} (rule {v['rule']}{who})" if v.get("rule") else v["message"]
        out[name] = f"{out[name]} {text}" if name in out else text
    return out


def _app_errors(err: AppError, fallback: str) -> dict[str, str]:
    violations = getattr(err, "violations", None) or [
        {"message": err.message, "field": err.extra.get("field")}]
    return _field_errors(violations, fallback)


# -- finding slots ----------------------------------------------------------------------------
def find(state: State) -> dict[str, Any]:
    """The grid and the ranked slots for the choices, or the errors by field."""
    v = state.values
    query = {API_NAMES.get(k, k): v[k] for k in ("session_count", "duration_minutes",
                                                 "interval_weeks", "from", "earliest",
                                                 "latest", "weekday", "min_capacity")}
    query["min_capacity"] = query["min_capacity"] or str(max(1, len(state.client_ids)))
    who = {"clinician_id": v["clinician"]} if v["clinician"] else {"modality": v["modality"]}
    args, errors = load_form(AvailabilityArgs(), {**query, **who})
    errors = {FORM_NAMES.get(k, k): text for k, text in errors.items()}
    mod = enabled_modalities().get(v["modality"])
    if mod is None:
        errors["modality"] = "Choose one of the modalities offered."
    elif not errors:
        errors.update(_field_errors(core_bounds_violations(
            mod, session_count=args["weeks"], interval_weeks=args["interval_weeks"],
            duration_minutes=args["duration_minutes"]), "session_count"))
    if errors:
        return {"errors": errors}
    try:
        # The ranked slots are find_slots' (GET /api/availability), computed
        # on the bookings the grid has read (see slot_grid's ``ranked``).
        grid = slot_grid({**args, "modality": v["modality"], "client_ids": state.client_ids,
                          "step": int(v["step"]) if v["step"].isdigit() else v["step"]},
                         ranked=SLOT_LIMIT)
    except AppError as err:
        db.session.rollback()
        return {"errors": _app_errors(err, "clinician")}
    return {"grid": grid, "slots": grid.slots, "errors": {}}


# -- the preview and the booking --------------------------------------------------------------
def booking_values(state: State) -> tuple[dict, dict[str, str]]:
    """The booking's body, validated by the API's own schema."""
    v, p = state.values, state.pick
    data = {"client_ids": state.client_ids, "clinician_id": _int(p.get("pick_clinician", "")),
            "room_id": _int(p.get("pick_room", "")), "modality": v["modality"],
            "first_date": p.get("pick_date", ""), "start_time": p.get("pick_time", ""),
            "duration_minutes": _int(v["duration_minutes"]),
            "session_count": _int(v["session_count"]),
            "interval_weeks": _int(v["interval_weeks"])}
    values, errors = load_form(BookingSchema(), data)
    # The slot's own fields are hidden: their errors go with the pick.
    errors = {PICKED.get(k.split("[")[0], k.split("[")[0]): text for k, text in errors.items()}
    if "client_ids" in errors:
        errors["client_ids"] = "Choose at least one client (up to 50)."
    return values, errors


def preview(state: State) -> dict[str, Any]:
    values, errors = booking_values(state)
    if errors:
        return {"errors": errors}
    try:
        return {"result": book_course(values, dry_run=True), "errors": {}}
    except AppError as err:
        db.session.rollback()
        return {"refusal": error_view(err), "errors": {}}


# -- rendering --------------------------------------------------------------------------------
def day_label(text: str, fmt: str = "%a %-d %b %Y") -> str:
    """A YYYY-MM-DD date for people ("Tue 3 Mar 2026"); other text as it is."""
    try:
        return date.fromisoformat(text).strftime(fmt)
    except (TypeError, ValueError):
        return text


def _names() -> dict[str, Any]:
    delivers: dict[int, list[str]] = {}
    for cid, key in db.session.execute(select(ClinicianModality.clinician_id,
                                              ClinicianModality.modality)):
        delivers.setdefault(cid, []).append(key)
    clinicians = [SimpleNamespace(id=cid, name=name, modalities=sorted(delivers.get(cid, [])))
                  for cid, name in db.session.execute(
                      select(Clinician.id, Clinician.name).where(Clinician.active)
                      .order_by(Clinician.name, Clinician.id))]
    rooms = db.session.execute(select(Room.id, Room.name).order_by(Room.name, Room.id)).all()
    return {"clinicians": clinicians,
            "clinician_names": {c.id: c.name for c in clinicians},
            "room_names": {r.id: r.name for r in rooms},
            "modalities": enabled_modalities(), "weekdays": WEEKDAYS, "labels": LABELS,
            "day_label": day_label}


def _chosen(state: State) -> tuple[list[Client], dict[str, str]]:
    clients = db.session.scalars(select(Client).where(Client.id.in_(state.client_ids))).all()
    by_id = {c.id: c for c in clients}
    errors = {}
    if state.bad_ids or len(by_id) < len(state.client_ids):
        errors["client_ids"] = "A chosen client does not exist any more; choose again."
        state.client_ids = [i for i in state.client_ids if i in by_id]
    return [by_id[i] for i in state.client_ids], errors


def render(state: State, *, status: int = 200, refusal: dict | None = None,
           errors: dict[str, str] | None = None, search: dict | None = None,
           new_client: dict | None = None, focus: str | None = None):
    """The page for ``state``: what it finds and previews, and any refusal."""
    chosen, errors_now = _chosen(state)
    errors = {**errors_now, **(errors or {})}
    found = find(state) if state.find else None
    shown = preview(state) if state.pick and not (found and found["errors"]) else None
    if found:
        errors.update(found["errors"])
    if shown:
        errors.update(shown["errors"])
        refusal = refusal or shown.get("refusal")
    if status == 200 and errors:
        status = 422
    if focus is None:
        focus = ("preview-h" if shown else "errors-h" if errors else
                 "slots-h" if found else None)
    return render_template("booking/index.html", state=state, chosen=chosen, errors=errors,
                           found=found, shown=shown, refusal=refusal, search=search,
                           new_client=new_client or {}, focus=focus, **_names()), status


# -- views ------------------------------------------------------------------------------------
@bp.route("/book")
@page(*STAFF)
def book():
    state = State.read(request.args)
    focus = None
    add = request.args.get("add_client", "")
    drop = request.args.get("remove_client", "")
    if add.isdigit() and int(add) not in state.client_ids and len(add) < 10:
        state.client_ids.append(int(add))
        focus = "client-q"
    if drop.isdigit() and int(drop) in state.client_ids:
        state.client_ids.remove(int(drop))
        focus = "clients-h"
    return render(state, focus=focus)


@bp.route("/book", methods=["POST"])
@page(*STAFF)
def submit():
    """Book the previewed series for real."""
    state = State.read(request.form)
    values, errors = booking_values(state)
    if errors:
        return render(state, errors=errors, focus="book-h")
    try:
        result = book_course(values)
    except AppError as err:
        db.session.rollback()
        return render(state, status=err.status, refusal=error_view(err), focus="book-h")
    course = result["course"]
    skipped = len(result["skipped"])
    flash(f"Course {course.id} booked: {len(course.sessions)} sessions"
          + (f", {skipped} date(s) skipped for closures or absences." if skipped else "."),
          "success")
    for w in result["warnings"]:
        who = f", plugin {w['plugin']}" if w.get("plugin") else ""
        flash(f"{w['message']} (rule {w['rule']}{who})", "warning")
    return redirect(url_for("web_courses.course", course_id=course.id), code=303)


def search_clients(q: str, exclude: list[int]) -> list[Client]:
    """Clients matching ``q`` as ``GET /api/clients?q=`` does (name or date of birth)."""
    query = (select(Client).where(client_search(q)).order_by(Client.name, Client.id)
             .limit(SEARCH_LIMIT + 1))
    return [c for c in db.session.scalars(query) if c.id not in exclude]


@bp.route("/book/clients", methods=["POST"])
@page(*STAFF)
def clients():
    """Search clients (htmx: the results alone), or add one and go back."""
    state = State.read(request.form)
    add = request.form.get("add_client", "")
    if add.isdigit() and len(add) < 10:
        if int(add) not in state.client_ids:
            state.client_ids.append(int(add))
        return redirect(state.url(anchor="clients-h"), code=303)
    q = (request.form.get("q") or "").strip()[:200]
    found = search_clients(q, state.client_ids) if q else []
    search = {"q": q, "results": found[:SEARCH_LIMIT], "more": len(found) > SEARCH_LIMIT}
    if request.headers.get("HX-Request"):
        return render_template("booking/_client_results.html", search=search, state=state)
    return render(state, search=search, focus="results-h")


@bp.route("/book/clients/new", methods=["POST"])
@page(*STAFF)
def new_client():
    """Create a client without leaving the page, and choose them."""
    state = State.read(request.form)
    typed = {k: (request.form.get(k) or "").strip() for k in ("name", "date_of_birth",
                                                              "email", "phone")}
    values, errors = load_form(ClientSchema(), typed)
    if errors:
        return render(state, new_client={"values": typed, "errors": errors, "open": True},
                      focus="new-client-h", status=422)
    try:
        client = create_client(values)
    except AppError as err:
        db.session.rollback()
        return render(state, new_client={"values": typed, "errors": _app_errors(err, "name"),
                                         "open": True}, focus="new-client-h",
                      status=err.status)
    state.client_ids.append(client.id)
    flash(f"Client {client.id} created and chosen.", "success")
    return redirect(state.url(anchor="clients-h"), code=303)
