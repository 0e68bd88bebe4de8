"""Courses, their sessions and the availability search (thin views)."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ..audit import record_read
from ..auth import ANY_ROLE, current_api_user, roles_required
from ..errors import NotFound
from ..extensions import db
from ..models import Course
from ..services import course_changes as changes
from ..services.availability import find_slots
from ..services.booking import book_course
from ..services.calendar import practice_zone
from ..services.conflicts import conflicts_for
from ..services.course_view import course_dict, course_list_query
from ..services.directory import get_or_404
from .common import paginate
from .course_schemas import (AttendanceSchema, AvailabilityArgs, AvailabilityOut, BookingSchema,
                             CancelSchema, CloseSchema, CourseList, CourseListArgs, CourseOut,
                             ExtendSchema, PreviewOut, RescheduleSchema)

blp = Blueprint("courses", __name__, url_prefix="/api",
                description="Courses, sessions and availability")

STAFF = ("admin", "front_desk")


def visible_course(course_id: int) -> Course:
    """The course, if the caller may see it (clinicians: their own only)."""
    user = current_api_user()
    course = get_or_404(Course, course_id, "Course")
    if user.role == "clinician" and course.clinician_id != user.clinician_id:
        raise NotFound(f"Course {course_id} does not exist.")  # as if it did not
    return course


def _show(course: Course, **extra) -> dict:
    d = course_dict(course, current_api_user(), practice_zone())
    d.update(extra)
    return d


@blp.route("/courses")
class Courses(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(CourseListArgs, location="query")
    @blp.response(200, CourseList)
    def get(self, args):
        """List courses, filtered by clinician, client, status, modality or dates."""
        user = current_api_user()
        page = paginate(course_list_query(user, args), args, db.session)
        zone = practice_zone()
        page["items"] = [course_dict(c, user, zone, with_sessions=False) for c in page["items"]]
        return page

    @roles_required(*STAFF)
    @blp.arguments(BookingSchema)
    @blp.response(201, CourseOut)
    @blp.alt_response(200, schema=PreviewOut, description="dry_run: the would-be series")
    def post(self, data):
        """Book a course and its whole series (all or nothing), or preview it."""
        if data.get("dry_run"):
            # A Response passes flask-smorest's serialiser untouched.
            return jsonify(PreviewOut().dump(book_course(data, dry_run=True)))
        result = book_course(data)
        return _show(result["course"], skipped=result["skipped"], warnings=result["warnings"])


@blp.route("/courses/<int:course_id>")
class CourseItem(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, CourseOut)
    def get(self, course_id):
        """A course with its sessions ("session k of N", phase) and open flags
        (a read of its flags is audited)."""
        shown = _show(visible_course(course_id))
        if shown.get("flags"):
            record_read("view", "course_flags", course_id,
                        flag_ids=[f["id"] for f in shown["flags"]])
        return shown


def _changer(course_id: int) -> Course:
    user = current_api_user()
    course = visible_course(course_id)
    if user.role not in (*STAFF, "clinician"):
        raise NotFound(f"Course {course_id} does not exist.")
    return course


@blp.route("/courses/<int:course_id>/sessions/<int:number>/reschedule")
class Reschedule(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(RescheduleSchema)
    @blp.response(200, CourseOut)
    # One status, two bodies: the course after the move, or (dry_run) the preview.
    @blp.alt_response(200, success=True, description="The course after the move; with "
                      "dry_run, where the sessions would go and what clashes (PreviewOut).",
                      schema={"anyOf": [{"$ref": "#/components/schemas/CourseOut"},
                                        {"$ref": "#/components/schemas/PreviewOut"}]})
    def post(self, data, course_id, number):
        """Move one session, or it and the following ones (``scope``), or preview it."""
        course = _changer(course_id)
        if data.get("dry_run"):
            # A Response passes flask-smorest's serialiser untouched.
            preview = changes.preview_reschedule(course, number, data)
            preview["conflicts"] = conflicts_for(current_api_user(), preview["conflicts"])
            return jsonify(PreviewOut().dump(preview))
        result = changes.reschedule(course, number, data)
        return _show(course, warnings=result["warnings"])


@blp.route("/courses/<int:course_id>/sessions/<int:number>/cancel")
class Cancel(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(CancelSchema)
    @blp.response(200, CourseOut)
    def post(self, data, course_id, number):
        """Cancel a session (kept, with who and why); optionally append a make-up."""
        course = _changer(course_id)
        result = changes.cancel(course, number, data, current_api_user().id)
        return _show(course, make_up=_make_up(result), warnings=result["warnings"])


@blp.route("/courses/<int:course_id>/sessions/<int:number>/attendance")
class Attendance(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(AttendanceSchema)
    @blp.response(200, CourseOut)
    def post(self, data, course_id, number):
        """Record attendance (``attended`` | ``no_show``), per client in a group."""
        course = _changer(course_id)
        result = changes.record_attendance(course, number, data)
        return _show(course, make_up=_make_up(result), warnings=result["warnings"])


def _make_up(result: dict):
    m = result.get("make_up")
    if not m:
        return None
    return {"number": m["number"], "starts_at": m["starts_at"].astimezone(practice_zone()).isoformat(),
            "skipped": m["skipped"]}


@blp.route("/courses/<int:course_id>/extend")
class Extend(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(ExtendSchema)
    @blp.response(200, CourseOut)
    def post(self, data, course_id):
        """Add k sessions at the end of the series."""
        course = _changer(course_id)
        result = changes.extend(course, data)
        return _show(course, added=result["added"], skipped=result["skipped"],
                     warnings=result["warnings"])


@blp.route("/courses/<int:course_id>/close")
class Close(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(CloseSchema)
    @blp.response(200, CourseOut)
    def post(self, data, course_id):
        """Close a course early (``outcome``, ``reason``); remaining sessions are cancelled."""
        course = _changer(course_id)
        changes.close_course(course, data)
        return _show(course)


@blp.route("/availability")
class Availability(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(AvailabilityArgs, location="query")
    @blp.response(200, AvailabilityOut)
    def get(self, args):
        """Weekly slots where a clinician and one room are free for every week."""
        return {"slots": find_slots(args, current_api_user())}
