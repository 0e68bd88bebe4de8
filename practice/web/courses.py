"""Course pages: the list, and one course with its sessions and actions.

Every action is a plain form posted to its own URL (no script needed). The
view reads the form as the JSON the API takes (``json_like``), validates it
with the API's own schema (``load_form``) and calls the same service as the
API. It then either redirects back with a message (Post/Redirect/Get) or,
when the service refuses (409 with conflicts, 422 with violations naming
rule and plugin), shows the course page again with the refusal next to the
action that was refused and everything typed kept, with the refusal's
status.

A clinician sees only their own courses (another's is the 404 page, as in
the API, through the API's own ``visible_course``).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from marshmallow import Schema
from sqlalchemy import select

from ..api.common import paginate
from ..api.course_schemas import (AttendanceSchema, CancelSchema, CloseSchema, CourseListArgs,
                                  ExtendSchema, RescheduleSchema)
from ..api.courses import visible_course
from ..api.directory import visible_client
from ..audit import record_read
from ..errors import Conflict, NotFound, RuleViolation
from ..extensions import db
from ..models import Course
from ..services import course_changes as changes
from ..services.calendar import practice_zone
from ..services.conflicts import conflicts_for
from ..services.course_view import course_list_query
from ..services.modalities import enabled_modalities
from . import course_page as cp
from .common import ANY_ROLE, error_view, load_form, page
from .form_data import check_form

bp = Blueprint("web_courses", __name__)

PAGE_SIZE = 25
FILTERS = ("clinician_id", "client_id", "status", "modality")
SCHEMAS: dict[str, type[Schema]] = {
    "reschedule": RescheduleSchema, "cancel": CancelSchema, "attendance": AttendanceSchema,
    "extend": ExtendSchema, "close": CloseSchema,
}
# The service refusals shown next to the action (the course itself was found).
REFUSALS = (Conflict, RuleViolation, NotFound)
# Each action's fields and their element ids, in the form's order: after a
# refused post the first field to correct gets the focus (``autofocus``).
FIELD_IDS = {
    "reschedule": (("date", "rs-date"), ("start_time", "rs-time"), ("room_id", "rs-room"),
                   ("scope", "rs-scope-1")),
    "cancel": (("by", "cx-by-1"), ("reason", "cx-reason"), ("make_up", "cx-make-up")),
    "attendance": (("make_up", "at-make-up"),),
    "extend": (("sessions", "ex-sessions"), ("reason", "ex-reason")),
    "close": (("outcome", "cl-outcome"), ("reason", "cl-reason")),
}


# -- the list ------------------------------------------------------------------
def _list_args() -> tuple[dict, dict[str, str], dict[str, str]]:
    """(checked filters, errors by filter, the raw text) from the query string;
    a filter that does not check is left out and named, never a 500."""
    raw = {k: request.args.get(k, "") for k in (*FILTERS, "offset")}
    raw["limit"] = request.args.get("limit") or str(PAGE_SIZE)
    values, errors = load_form(CourseListArgs(), raw)
    if errors:
        values, _ = load_form(CourseListArgs(), {k: v for k, v in raw.items() if k not in errors})
        values = values or {"limit": PAGE_SIZE, "offset": 0}
    return values, errors, raw


def _modality_options() -> list[tuple[str, str]]:
    enabled = enabled_modalities()
    keys = set(enabled) | set(db.session.scalars(select(Course.modality).distinct()))
    return [("", "Any modality")] + [
        (k, enabled[k].label if k in enabled else f"{k} (not enabled)") for k in sorted(keys)]


@bp.route("/courses")
@page(*ANY_ROLE)
def courses():
    """Courses with "session k of N" and the next session, filtered as the API's list."""
    user = g.api_user
    args, errors, raw = _list_args()
    result = paginate(course_list_query(user, args), args, db.session)
    client_label = None
    if args.get("client_id"):
        try:
            client_label = visible_client(args["client_id"]).name
        except NotFound:
            client_label = f"client {args['client_id']}"
    clinicians = cp.clinician_names() if user.role != "clinician" else {}
    return render_template(
        "courses/index.html", rows=cp.list_rows(list(result["items"]), user),
        total=result["total"], args=args, raw=raw, errors=errors, client_label=client_label,
        clinician_options=[("", "Any clinician")] + sorted(
            ((str(i), n) for i, n in clinicians.items()), key=lambda o: o[1]),
        status_options=[("", "Any status"), ("active", "Active"), ("completed", "Completed"),
                        ("ended_early", "Ended early")],
        modality_options=_modality_options(), status_labels=cp.STATUS_LABELS,
    ), (400 if errors else 200)


# -- one course ----------------------------------------------------------------
def _selected() -> int | None:
    text = request.args.get("session", "")
    return int(text) if text.isdigit() and len(text) < 6 else None


def render_course(course: Course, *, selected: int | None = None, action: str | None = None,
                  values: dict | None = None, errors: dict | None = None,
                  refusal: dict | None = None, preview: dict | None = None,
                  status: int = 200):
    """The course page; ``action`` (with ``values``, ``errors``, ``refusal``)
    is the form that was refused, shown open with what was typed."""
    ctx = cp.course_context(course, g.api_user, selected)
    if ctx["course"]["flags"]:  # as GET /api/courses/<id>: a read of flags is audited
        record_read("view", "course_flags", course.id,
                    flag_ids=[f["id"] for f in ctx["course"]["flags"]])
    focus_id = None
    if action:
        ctx["defaults"][action] = dict(values or {})
        ctx["open"] = action
        # The refusal first (it explains); else the first field to correct.
        focus_id = f"refusal-{action}" if refusal else "preview-ok" if preview else next(
            (fid for name, fid in FIELD_IDS[action] if name in (errors or {})),
            f"errors-{action}")
    return render_template("courses/course.html", action=action, errors=errors or {},
                           refusal=refusal, preview=preview, focus_id=focus_id,
                           zone=practice_zone(),
                           **ctx), status


@bp.route("/courses/<int:course_id>")
@page(*ANY_ROLE)
def course(course_id: int):
    """The course, its sessions (k of N, phase, status) and its actions."""
    return render_course(visible_course(course_id), selected=_selected())


def _back(course_id: int, number: int | None = None):
    args: dict[str, Any] = {"course_id": course_id, "_anchor": "main"}
    if number is not None:
        args["session"] = number
    return redirect(url_for(".course", **args), code=303)


def _flash_warnings(result: dict) -> None:
    for w in result.get("warnings") or []:
        who = f", plugin {w['plugin']}" if w.get("plugin") else ""
        flash(f"{w.get('message')} (rule {w.get('rule')}{who})", "warning")


def _when(instant) -> str:
    return instant.astimezone(practice_zone()).strftime("%a %-d %b %Y, %H:%M")


def _make_up_text(result: dict) -> str:
    m = result.get("make_up")
    return f" Make-up session {m['number']} added on {_when(m['starts_at'])}." if m else ""


def _run_session_action(action: str, course: Course, number: int, data: dict) -> str:
    """Call the service for a session action; the message to show on success."""
    if action == "reschedule":
        result = changes.reschedule(course, number, data)
        moved = result["moved"]
        s = changes.get_session(course, number)
        text = (f"Session {number} moved to {_when(s.starts_at)}." if len(moved) <= 1 else
                f"Sessions {', '.join(map(str, moved))} moved: session {number} is now on "
                f"{_when(s.starts_at)}, the others follow at the same time.")
    elif action == "cancel":
        result = changes.cancel(course, number, data, g.api_user.id)
        text = f"Session {number} cancelled by the {data['by']}." + _make_up_text(result)
    else:
        result = changes.record_attendance(course, number, data)
        who = f" for client {data['client_id']}" if data.get("client_id") else ""
        label = "attended" if data["status"] == "attended" else "no-show"
        text = f"Session {number}{who}: {label} recorded." + _make_up_text(result)
    _flash_warnings(result)
    return text


@bp.route("/courses/<int:course_id>/sessions/<int:number>/"
          "<any(reschedule, cancel, attendance):action>", methods=["GET", "POST"])
@page(*ANY_ROLE)
def session_action(course_id: int, number: int, action: str):
    """Reschedule, cancel or record attendance for one session."""
    course = visible_course(course_id)
    changes.get_session(course, number)  # an unknown session is the 404 page
    if request.method == "GET":  # a reload of a refused form's address
        return redirect(url_for(".course", course_id=course_id, session=number,
                                _anchor="session-panel"))
    schema = SCHEMAS[action]()
    typed = request.form.to_dict()
    values, errors = check_form(schema, request.form)
    if errors:
        if "starts_at" in errors:  # the API's "either starts_at or date and time"
            errors.setdefault("date" if not typed.get("date") else "start_time",
                              "Give the new date and start time.")
        return render_course(course, selected=number, action=action, values=typed,
                             errors=errors, status=422)
    if action == "reschedule" and values.get("dry_run"):
        return _check_first(course_id, number, typed, values)
    try:
        message = _run_session_action(action, course, number, values)
    except REFUSALS as err:
        db.session.rollback()
        return render_course(db.session.get(Course, course_id), selected=number, action=action,
                             values=typed, refusal=error_view(err), status=err.status)
    flash(message, "success")
    return _back(course_id, number)


def _check_first(course_id: int, number: int, typed: dict, values: dict):
    """"Check first": the reschedule's dry run, shown next to its form (200,
    nothing written); a move that would be refused shows why, as a refusal."""
    course = db.session.get(Course, course_id)
    try:
        preview = changes.preview_reschedule(course, number, values)
        preview["conflicts"] = conflicts_for(g.api_user, preview["conflicts"])
    except REFUSALS as err:
        db.session.rollback()
        return render_course(db.session.get(Course, course_id), selected=number,
                             action="reschedule", values=typed, refusal=error_view(err),
                             status=err.status)
    refusal = None
    if not preview["ok"]:
        refusal = {"status": 409 if preview["conflicts"] else 422, "code": "dry_run",
                   "message": "Checked: this move would be refused. Nothing was changed.",
                   "violations": preview["violations"], "conflicts": preview["conflicts"],
                   "warnings": preview["warnings"]}
    return render_course(db.session.get(Course, course_id), selected=number,
                         action="reschedule", values=typed, refusal=refusal, preview=preview)


@bp.route("/courses/<int:course_id>/<any(extend, close):action>", methods=["GET", "POST"])
@page(*ANY_ROLE)
def course_action(course_id: int, action: str):
    """Extend the course by k sessions, or close it (outcome, reason)."""
    course = visible_course(course_id)
    if request.method == "GET":
        return redirect(url_for(".course", course_id=course_id, _anchor="course-actions"))
    schema = SCHEMAS[action]()
    typed = request.form.to_dict()
    values, errors = check_form(schema, request.form)
    if errors:
        return render_course(course, action=action, values=typed, errors=errors, status=422)
    try:
        if action == "extend":
            result = changes.extend(course, values)
            added = result["added"]
            message = (f"{len(added)} session{'s' if len(added) != 1 else ''} added "
                       f"(numbers {', '.join(map(str, added))}); the course now plans "
                       f"{course.planned_sessions}.")
            if result["skipped"]:
                message += " Skipped: " + "; ".join(
                    f"{s['date']} ({s['reason']})" for s in result["skipped"]) + "."
            _flash_warnings(result)
        else:
            changes.close_course(course, values)
            message = f"Course closed: {cp.STATUS_LABELS.get(course.status, course.status)}."
    except REFUSALS as err:
        db.session.rollback()
        return render_course(db.session.get(Course, course_id), action=action, values=typed,
                             refusal=error_view(err), status=err.status)
    flash(message, "success")
    return _back(course_id)
