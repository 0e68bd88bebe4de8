"""Closure pages (admin, front desk): the list, add, remove.

A closure is a date when the whole practice, or one site, is closed; new
series skip it (SPEC section 2). The form validates with the API's
``ClosureSchema`` and adds through ``services.directory.create_closure``;
removing asks first (a confirmation page, so it works without a script).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..api.schemas import ClosureSchema
from ..errors import AppError, Conflict, NotFound
from ..extensions import db
from ..models import Closure, Room, Site, TherapySession
from ..services import directory as svc
from ..services.calendar import practice_zone
from .common import STAFF, page
from .form_data import check_form

bp = Blueprint("web_closures", __name__)

PAST_SHOWN = 20


def _today() -> date:
    return datetime.now(practice_zone()).date()


def _sites() -> dict[int, str]:
    return {i: n for i, n in db.session.execute(select(Site.id, Site.name).order_by(Site.name))}


def _page(values: dict, errors: dict, status: int = 200):
    today = _today()
    upcoming = db.session.scalars(select(Closure).where(Closure.date >= today)
                                  .order_by(Closure.date, Closure.site_id, Closure.id)).all()
    past = db.session.scalars(select(Closure).where(Closure.date < today)
                              .order_by(Closure.date.desc(), Closure.id.desc())
                              .limit(PAST_SHOWN)).all()
    sites = _sites()
    return render_template(
        "closures/index.html", upcoming=upcoming, past=past, sites=sites,
        site_options=[("", "Whole practice")] + [(str(i), n) for i, n in sites.items()],
        values=values, errors=errors, today=today), status


@bp.route("/closures")
@page(*STAFF)
def closures():
    """Upcoming closures first (site or whole practice), then recent ones."""
    return _page({"date": "", "reason": "", "site_id": ""}, {})


def _sessions_booked(day: date, site_id: int | None) -> int:
    """Scheduled sessions on ``day`` (at ``site_id``): a closure does not move them."""
    zone = practice_zone()
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    q = select(func.count(TherapySession.id)).where(
        TherapySession.status == "scheduled", TherapySession.starts_at < end,
        TherapySession.ends_at > start)
    if site_id is not None:
        q = q.where(TherapySession.room_id.in_(select(Room.id).where(Room.site_id == site_id)))
    return db.session.scalar(q) or 0


def _describe(day: date, site_id: int | None) -> str:
    where = _sites().get(site_id, f"site {site_id}") if site_id else "the whole practice"
    return f"{day.strftime('%a %-d %b %Y')} ({where})"


def _field_errors(err: AppError) -> dict[str, str]:
    """A refusal from the service, by form field: a repeat (409) is about the
    date, an unknown site (a stale page) about the site."""
    if isinstance(err, Conflict):
        return {"date": err.message}
    if isinstance(err, NotFound):
        return {"site_id": err.message}
    violations = err.to_dict().get("violations") or [{}]
    return {v.get("field") or "date": v.get("message") or err.message for v in violations}


@bp.route("/closures", methods=["POST"])
@page(*STAFF)
def add_closure():
    """Add a closure; a bad date, or a repeat of one already there (the
    service's 409), is refused next to its field."""
    typed = {k: (request.form.get(k) or "").strip() for k in ("date", "reason", "site_id")}
    data, errors = check_form(ClosureSchema(), request.form)
    if not errors:
        try:
            closure = svc.create_closure(data)
        except AppError as err:
            db.session.rollback()
            errors = _field_errors(err)
    if errors:
        return _page(typed, errors, 422)
    message = f"Closure added: {_describe(closure.date, closure.site_id)}."
    booked = _sessions_booked(closure.date, closure.site_id)
    if booked:
        message += (f" {booked} session{'s are' if booked != 1 else ' is'} already booked that "
                    "day: a closure does not move them; reschedule or cancel them from the "
                    "calendar or the course page.")
    flash(message, "warning" if booked else "success")
    return redirect(url_for(".closures"), code=303)


@bp.route("/closures/<int:closure_id>/remove", methods=["GET", "POST"])
@page(*STAFF)
def remove_closure(closure_id: int):
    """Ask, then remove a closure."""
    closure = svc.get_or_404(Closure, closure_id, "Closure")
    what = _describe(closure.date, closure.site_id)
    if request.method == "GET":
        return render_template("closures/remove.html", closure=closure, what=what)
    svc.delete_closure(closure)
    flash(f"Closure removed: {what}.", "success")
    return redirect(url_for(".closures"), code=303)
