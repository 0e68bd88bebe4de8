"""The IPT plugin's routes (thin views): PHQ-9 measures per client and
session, their correction and voiding, and the maintenance decision.

Clinical data: admins and the treating clinician (front desk 403; another
clinician's course or measure 404, as if it did not exist). ``readonly_blp``
serves the reads while the plugin is disabled, so measures stay readable.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from practice.api.clinical import clinical_course
from practice.api.course_schemas import FlagSchema
from practice.api.fields import StrictInt
from practice.auth import ANY_ROLE, current_api_user, roles_required

from . import measures as svc

ITEM = StrictInt(validate=validate.Range(min=0, max=3))


class MeasureIn(Schema):
    session_number = StrictInt(required=True, validate=validate.Range(min=1, max=1000))
    client_id = StrictInt(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "the member the PHQ-9 belongs to; required in a group"})
    items = fields.List(ITEM, required=True, validate=validate.Length(equal=9), metadata={
        "description": "the nine item scores, each 0-3, in the questionnaire's order"})


class CorrectionIn(Schema):
    items = fields.List(ITEM, required=True, validate=validate.Length(equal=9))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class VoidIn(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class VersionOut(Schema):
    version = fields.Int()
    action = fields.Str()
    items = fields.List(fields.Int(), allow_none=True)
    total = fields.Int()
    item9 = fields.Int()
    reason = fields.Str(allow_none=True)
    recorded_at = fields.DateTime()
    recorded_by_user_id = fields.Int(allow_none=True)


class MeasureOut(Schema):
    id = fields.Int()
    course_id = fields.Int()
    client_id = fields.Int(allow_none=True)
    session_number = fields.Int()
    instrument = fields.Str()
    items = fields.List(fields.Int(), allow_none=True)
    total = fields.Int(metadata={"description": "the items' sum, 0-27 (computed)"})
    band = fields.Str(metadata={"description": "minimal, mild, moderate, moderately severe, "
                                               "severe (computed from the total)"})
    item9 = fields.Int()
    entered_without_items = fields.Bool(metadata={
        "description": "recorded before items were entered: total and item 9 only"})
    version = fields.Int()
    voided = fields.Bool()
    voided_at = fields.DateTime(allow_none=True)
    recorded_at = fields.DateTime()
    recorded_by_user_id = fields.Int(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class MeasureDetail(MeasureOut):
    void_reason = fields.Str(allow_none=True)
    history = fields.List(fields.Nested(VersionOut))


class MeasureAnswer(MeasureDetail):
    flags = fields.List(fields.Nested(FlagSchema), metadata={
        "description": "the flags this entry raised (a safety review among them)"})
    safety_review = fields.Bool(metadata={"description": "this entry raised a safety review"})
    crisis_text = fields.Str(metadata={"description": "the practice's crisis text, shown with "
                                                      "a safety review (a setting)"})


class MeasureList(Schema):
    items = fields.List(fields.Nested(MeasureOut), required=True)
    total = fields.Int(required=True)
    due_sessions = fields.List(fields.Int(), metadata={
        "description": "session numbers a PHQ-9 is due at: baseline, every k-th, the last"})


class MaintenanceIn(Schema):
    decision = fields.Str(required=True, validate=validate.OneOf(svc.MAINTENANCE_DECISIONS))
    note = fields.Str(load_default="", validate=validate.Length(max=4000))
    client_id = StrictInt(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "the member the decision is for; required in a group"})


class MaintenanceOut(Schema):
    course_id = fields.Int()
    client_id = fields.Int()
    decision = fields.Str()
    note = fields.Str()
    decided_at = fields.Str()
    decided_by_user_id = fields.Int(allow_none=True)


blp = Blueprint("ipt", __name__, url_prefix="/api/ipt",
                description="IPT plugin: PHQ-9 measures and the maintenance decision")
readonly_blp = Blueprint("ipt_readonly", __name__, url_prefix="/api/ipt",
                         description="IPT plugin (disabled): measures, read-only")


def _uid() -> int:
    return current_api_user().id


@blp.route("/courses/<int:course_id>/measures")
class Measures(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, MeasureList)
    def get(self, course_id):
        """The course's PHQ-9 measures and the sessions they are due at."""
        return svc.list_measures(clinical_course(course_id))

    @roles_required(*ANY_ROLE)
    @blp.arguments(MeasureIn)
    @blp.response(201, MeasureAnswer)
    def post(self, data, course_id):
        """Enter a PHQ-9 (nine items, each 0-3) for one client at one session;
        the answer says which flags it raised (a safety review)."""
        return svc.record_measure(clinical_course(course_id), data, _uid())


@blp.route("/measures/<int:measure_id>")
class Measure(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, MeasureDetail)
    def get(self, measure_id):
        """One measure with its history."""
        m, _ = svc.get_measure(measure_id, clinical_course)
        return svc.read_measure(m)

    @roles_required(*ANY_ROLE)
    @blp.arguments(CorrectionIn)
    @blp.response(200, MeasureAnswer)
    def patch(self, data, measure_id):
        """Correct a measure's items (with a reason); the history is kept."""
        m, course = svc.get_measure(measure_id, clinical_course)
        return svc.correct_measure(course, m, data, _uid())


@blp.route("/measures/<int:measure_id>/void")
class VoidMeasure(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(VoidIn)
    @blp.response(200, MeasureAnswer)
    def post(self, data, measure_id):
        """Void a measure entered in error (with a reason); kept and readable."""
        m, course = svc.get_measure(measure_id, clinical_course)
        return svc.void_measure(course, m, data, _uid())


@blp.route("/courses/<int:course_id>/maintenance")
class Maintenance(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(MaintenanceIn)
    @blp.response(200, MaintenanceOut)
    def post(self, data, course_id):
        """Record the maintenance decision (planned, declined, not_indicated);
        it closes ``ipt.maintenance_due`` for that client."""
        return svc.record_maintenance_decision(clinical_course(course_id), data, _uid())


@readonly_blp.route("/courses/<int:course_id>/measures")
class ReadonlyMeasures(MethodView):
    @roles_required(*ANY_ROLE)
    @readonly_blp.response(200, MeasureList)
    def get(self, course_id):
        """The course's PHQ-9 measures (the IPT plugin is disabled: read-only)."""
        return svc.list_measures(clinical_course(course_id))


@readonly_blp.route("/measures/<int:measure_id>")
class ReadonlyMeasure(MethodView):
    @roles_required(*ANY_ROLE)
    @readonly_blp.response(200, MeasureDetail)
    def get(self, measure_id):
        """One measure with its history (the IPT plugin is disabled: read-only)."""
        m, _ = svc.get_measure(measure_id, clinical_course)
        return svc.read_measure(m)
