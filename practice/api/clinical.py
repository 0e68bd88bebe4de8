"""Modalities, flags and the modality intake (thin views).

Intake is clinical: admins and the treating clinician only. Front desk gets
403; a clinician asking for another clinician's course gets 404, as if it
did not exist.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate

from ..audit import record_read
from ..auth import ANY_ROLE, current_api_user, roles_required
from ..errors import Forbidden, NotFound, RuleViolation, violation
from ..extensions import db
from ..models import Course
from ..services import intake as intake_svc
from ..services.flags import ACK_OUTCOMES, acknowledge_flag, open_flags_query, refresh_flags_for
from ..services.modalities import enabled_modalities
from ..services.course_view import flag_item
from .common import ListArgs, list_schema
from .course_schemas import FlagSchema
from .fields import MAX_ID

blp = Blueprint("clinical", __name__, url_prefix="/api",
                description="Modalities, course flags and the modality intake")

CLINICAL = ("admin", "clinician")


def clinical_course(course_id: int) -> Course:
    """A course whose clinical data the caller may see (403 front desk; 404
    unknown or another clinician's)."""
    user = current_api_user()
    if user.role not in CLINICAL:
        raise Forbidden("Clinical data is for the treating clinician and admins.")
    course = db.session.get(Course, course_id) if 0 < course_id < 2**31 else None
    if course is None or (user.role == "clinician" and course.clinician_id != user.clinician_id):
        raise NotFound(f"Course {course_id} does not exist.")
    return course


# -- schemas ---------------------------------------------------------------------
class IntakeFieldSchema(Schema):
    name = fields.Str()
    label = fields.Str()
    type = fields.Str()
    required = fields.Bool()
    choices = fields.List(fields.Str())
    help = fields.Str()


class ModalitySchema(Schema):
    key = fields.Str()
    label = fields.Str()
    plugin = fields.Str()
    description = fields.Str()
    min_sessions = fields.Int()
    max_sessions = fields.Int()
    default_sessions = fields.Int()
    max_extended_sessions = fields.Int(allow_none=True)
    default_interval_weeks = fields.Int()
    allowed_intervals = fields.List(fields.Int(), metadata={"description": "empty: any of 1-8"})
    min_duration = fields.Int()
    max_duration = fields.Int()
    default_duration = fields.Int()
    min_clients = fields.Int()
    max_clients = fields.Int(allow_none=True)
    intake_fields = fields.List(fields.Nested(IntakeFieldSchema))


ModalityList = list_schema(ModalitySchema, "ModalityList")


class FlagArgs(ListArgs):
    # Query strings carry text: ids are parsed, not strict JSON integers.
    clinician_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))
    course_id = fields.Int(validate=validate.Range(min=1, max=MAX_ID))
    code = fields.Str(validate=validate.Length(min=1, max=80))
    severity = fields.Str(validate=validate.OneOf(("info", "warning", "high")))


FlagList = list_schema(FlagSchema, "FlagList")


class AcknowledgeIn(Schema):
    outcome = fields.Str(required=True, validate=validate.OneOf(ACK_OUTCOMES))
    note = fields.Str(required=True, validate=validate.Length(min=1, max=4000))


class IntakeBody(Schema):
    """The modality's intake fields (see ``GET /api/modalities``); PUT
    replaces the whole intake."""

    class Meta:
        unknown = INCLUDE


class IntakeSchema(Schema):
    course_id = fields.Int()
    modality = fields.Str()
    modality_enabled = fields.Bool()
    fields_ = fields.List(fields.Nested(IntakeFieldSchema), data_key="fields", attribute="fields")
    data = fields.Dict()


# -- views -----------------------------------------------------------------------
@blp.route("/modalities")
class Modalities(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, ModalityList)
    def get(self):
        """The modalities enabled now, with their bounds and intake fields."""
        items = []
        for m in sorted(enabled_modalities().values(), key=lambda m: m.key):
            d = m.to_dict()
            d["intake_fields"] = intake_svc.intake_fields(m.key)
            items.append(d)
        return {"items": items, "total": len(items)}


@blp.route("/flags")
class Flags(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(FlagArgs, location="query")
    @blp.response(200, FlagList)
    def get(self, args):
        """Open flags across courses, most urgent first (a clinician: their own)."""
        user = current_api_user()
        own = (user.clinician_id or 0) if user.role == "clinician" else args.get("clinician_id")
        refresh_flags_for(own)  # date-driven flags (overdue, due) change with "today"
        db.session.commit()
        q = open_flags_query(user, clinician_id=args.get("clinician_id"),
                             course_id=args.get("course_id"), code=args.get("code"),
                             severity=args.get("severity"))
        total = db.session.scalar(db.select(db.func.count()).select_from(
            q.order_by(None).subquery()))
        rows = db.session.scalars(q.limit(args["limit"]).offset(args["offset"])).all()
        owners = dict(db.session.execute(db.select(Course.id, Course.clinician_id).where(
            Course.id.in_({f.course_id for f in rows}))).all())
        items = [flag_item(f, owners[f.course_id]) for f in rows]
        # reading clinical flags is audited (ids only)
        record_read("view", "flags", None, flag_ids=[f.id for f in rows],
                    course_ids=sorted({f.course_id for f in rows}))
        return {"items": items, "total": total}


@blp.route("/flags/<int:flag_id>/acknowledge")
class AcknowledgeFlag(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.arguments(AcknowledgeIn)
    @blp.response(200, FlagSchema)
    def post(self, data, flag_id):
        """Acknowledge a held flag (a safety review) with an outcome and a note:
        it closes, audited. The treating clinician and admins only (others 404)."""
        user = current_api_user()
        if not data["note"].strip():
            raise RuleViolation([violation("flag.note", "Say what was done in the note.",
                                           field="note")])
        flag, course = acknowledge_flag(flag_id, user, data["outcome"], data["note"].strip())
        return flag_item(flag, course.clinician_id)


@blp.route("/courses/<int:course_id>/intake")
class Intake(MethodView):
    @roles_required(*ANY_ROLE)
    @blp.response(200, IntakeSchema)
    def get(self, course_id):
        """The course's intake and its fields (as stored if the plugin is off)."""
        return intake_svc.read_intake(clinical_course(course_id))

    @roles_required(*ANY_ROLE)
    @blp.arguments(IntakeBody)
    @blp.response(200, IntakeSchema)
    def put(self, data, course_id):
        """Replace the intake; the modality's plugin validates every field."""
        return intake_svc.replace_intake(clinical_course(course_id), data)
