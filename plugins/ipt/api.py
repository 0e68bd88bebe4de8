"""``/api/ipt/courses/<id>/measures``: PHQ-9 per session (thin views).

Clinical data: admins and the treating clinician (front desk 403; another
clinician's course 404). ``readonly_blp`` serves the same GET while the
plugin is disabled, so measures stay readable.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from practice.api.clinical import clinical_course
from practice.api.fields import StrictInt
from practice.auth import ANY_ROLE, current_api_user, roles_required

from . import measures as svc


class MeasureIn(Schema):
    session_number = StrictInt(required=True, validate=validate.Range(min=1, max=1000))
    phq9_total = StrictInt(required=True, validate=validate.Range(min=0, max=27))
    phq9_item9 = StrictInt(required=True, validate=validate.Range(min=0, max=3))

    @validates_schema
    def _item_in_total(self, data, **kwargs):
        if data.get("phq9_item9", 0) > data.get("phq9_total", 27):
            raise ValidationError("Item 9 is part of the total: it cannot exceed it.",
                                  field_name="phq9_item9")


class MeasureOut(Schema):
    id = fields.Int()
    course_id = fields.Int()
    session_number = fields.Int()
    instrument = fields.Str()
    phq9_total = fields.Int()
    phq9_item9 = fields.Int()
    recorded_at = fields.DateTime()
    recorded_by_user_id = fields.Int(allow_none=True)


class MeasureList(Schema):
    items = fields.List(fields.Nested(MeasureOut), required=True)
    total = fields.Int(required=True)
    due_sessions = fields.List(fields.Int(), metadata={
        "description": "session numbers a PHQ-9 is due at: baseline, every k-th, the last"})


blp = Blueprint("ipt", __name__, url_prefix="/api/ipt",
                description="IPT plugin: PHQ-9 measures per session")
readonly_blp = Blueprint("ipt_readonly", __name__, url_prefix="/api/ipt",
                         description="IPT plugin (disabled): measures, read-only")


@blp.route("/courses/<int:course_id>/measures")
class Measures(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, MeasureList)
    def get(self, course_id):
        """The course's PHQ-9 measures and the sessions they are due at."""
        return svc.list_measures(clinical_course(course_id))

    @roles_required(*ANY_ROLE)
    @blp.arguments(MeasureIn)
    @blp.response(201, MeasureOut)
    def post(self, data, course_id):
        """Record a PHQ-9 (total 0-27, item 9 0-3) for one session."""
        return svc.record_measure(clinical_course(course_id), data, current_api_user().id)


@readonly_blp.route("/courses/<int:course_id>/measures")
class ReadonlyMeasures(MethodView):
    @roles_required(*ANY_ROLE)
    @readonly_blp.response(200, MeasureList)
    def get(self, course_id):
        """The course's PHQ-9 measures (the IPT plugin is disabled: read-only)."""
        return svc.list_measures(clinical_course(course_id))
