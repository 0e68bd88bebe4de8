"""Schemas for courses, sessions and availability (validation + OpenAPI)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .common import ListArgs, list_schema
from .fields import HHMM, MAX_ID, SchedulingDate, SchedulingDateTime, StrictBool, StrictInt

# Query strings carry text (lenient ints); JSON bodies have real numbers.
Id = lambda **kw: fields.Int(validate=validate.Range(min=1, max=MAX_ID), **kw)  # noqa: E731
BodyId = lambda **kw: StrictInt(validate=validate.Range(min=1, max=MAX_ID), **kw)  # noqa: E731


class OverrideSchema(Schema):
    number = StrictInt(required=True, validate=validate.Range(min=1, max=104))
    room_id = BodyId()
    start_time = HHMM()
    date = SchedulingDate()


class BookingSchema(Schema):
    client_ids = fields.List(BodyId(), required=True, validate=validate.Length(min=1, max=50))
    clinician_id = BodyId(required=True)
    room_id = BodyId(required=True)
    modality = fields.Str(load_default="general", validate=validate.Length(min=1, max=50))
    first_date = SchedulingDate(required=True)
    start_time = HHMM(required=True)
    duration_minutes = StrictInt(validate=validate.Range(min=10, max=240))
    session_count = StrictInt(validate=validate.Range(min=1, max=104))
    interval_weeks = StrictInt(validate=validate.Range(min=1, max=8))
    overrides = fields.List(fields.Nested(OverrideSchema), validate=validate.Length(max=104))
    intake = fields.Dict()
    label = fields.Str(validate=validate.Length(max=200))
    dry_run = StrictBool(load_default=False)


class AttendanceOut(Schema):
    client_id = fields.Int()
    status = fields.Str(allow_none=True)


class SessionOut(Schema):
    id = fields.Int()
    number = fields.Int()
    starts_at = fields.Str(metadata={"format": "date-time"})
    ends_at = fields.Str(metadata={"format": "date-time"})
    room_id = fields.Int()
    status = fields.Str()
    phase = fields.Str(allow_none=True)
    position = fields.Int(allow_none=True)
    label = fields.Str(allow_none=True)
    is_make_up = fields.Bool()
    makes_up = fields.Int(allow_none=True)
    cancelled_by = fields.Str(allow_none=True)
    cancel_reason = fields.Str(allow_none=True)
    attendance = fields.List(fields.Nested(AttendanceOut))


class FlagSchema(Schema):
    """An open flag, on ``GET /api/courses/<id>`` and in ``GET /api/flags``."""

    id = fields.Int()
    course_id = fields.Int()
    clinician_id = fields.Int()
    code = fields.Str()
    plugin = fields.Str(allow_none=True)
    severity = fields.Str()
    audience = fields.Str()
    message = fields.Str()
    due_date = fields.Date(allow_none=True)
    raised_at = fields.DateTime()
    updated_at = fields.DateTime()
    client_id = fields.Int(allow_none=True, metadata={"description": "the client it concerns"})
    held = fields.Bool(metadata={"description": "stays open until a person acknowledges it "
                                                "(POST /api/flags/<id>/acknowledge)"})
    age_days = fields.Int(metadata={"description": "days since it was raised"})
    acknowledged_at = fields.DateTime(allow_none=True)
    ack_outcome = fields.Str(allow_none=True)


class ProgressOut(Schema):
    attended = fields.Int()
    delivered = fields.Int()
    remaining = fields.Int()
    planned = fields.Int()
    current = fields.Int()
    label = fields.Str()


class CourseOut(Schema):
    id = fields.Int()
    client_ids = fields.List(fields.Int())
    clinician_id = fields.Int()
    room_id = fields.Int()
    modality = fields.Str()
    modality_enabled = fields.Bool()
    label = fields.Str(allow_none=True)
    status = fields.Str()
    outcome = fields.Str(allow_none=True)
    close_reason = fields.Str(allow_none=True)
    planned_sessions = fields.Int()
    weekday = fields.Int()
    start_time = fields.Str()
    duration_minutes = fields.Int()
    interval_weeks = fields.Int()
    first_date = fields.Str()
    timezone = fields.Str()
    progress = fields.Nested(ProgressOut)
    flags = fields.List(fields.Nested(FlagSchema))
    sessions = fields.List(fields.Nested(SessionOut))
    # Present on the answers of changes:
    skipped = fields.List(fields.Dict())
    warnings = fields.List(fields.Dict())
    make_up = fields.Dict(allow_none=True)
    added = fields.List(fields.Int())


class PreviewOut(Schema):
    """A dry run's answer (booking, reschedule): the would-be ``sessions``
    (``number``, ``starts_at``, ``ends_at``, ``room_id``...), ``conflicts`` as
    the 409 lists them, ``warnings``, ``violations``; ``ok`` when none of
    those would stop it. Booking adds ``skipped``."""

    dry_run = fields.Bool()
    ok = fields.Bool()
    sessions = fields.List(fields.Dict())
    skipped = fields.List(fields.Dict())
    conflicts = fields.List(fields.Dict())
    warnings = fields.List(fields.Dict())
    violations = fields.List(fields.Dict())


CourseList = list_schema(CourseOut, "CourseList")


class CourseListArgs(ListArgs):
    clinician_id = Id()
    client_id = Id()
    status = fields.Str(validate=validate.OneOf(["active", "completed", "ended_early"]))
    modality = fields.Str(validate=validate.Length(max=50))
    date_from = SchedulingDate(data_key="from")
    date_to = SchedulingDate(data_key="to")


MAX_RANGE_DAYS = 42


class SessionRangeArgs(Schema):
    """``GET /api/sessions``: local dates ``from`` to ``to``, both included."""

    date_from = SchedulingDate(required=True, data_key="from",
                               metadata={"description": "First local day (included)."})
    date_to = SchedulingDate(required=True, data_key="to",
                             metadata={"description": "Last local day (included); at most "
                                       f"{MAX_RANGE_DAYS} days from `from` to `to`."})
    clinician_id = Id()
    room_id = Id()
    site_id = Id()
    # A calendar wants the whole range (which the cap bounds): no limit unless asked.
    limit = fields.Int(validate=validate.Range(min=1, max=10_000))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=10_000_000))

    @validates_schema
    def _range(self, data, **kwargs):
        days = (data["date_to"] - data["date_from"]).days + 1
        if days < 1:
            raise ValidationError("to must not be before from.", field_name="to")
        if days > MAX_RANGE_DAYS:
            raise ValidationError(f"The range is {days} days; at most {MAX_RANGE_DAYS}.",
                                  field_name="to")


class SessionClientOut(Schema):
    id = fields.Int()
    name = fields.Str()
    initials = fields.Str()


class CalendarSessionOut(Schema):
    """One session on a calendar: ``position`` of ``count`` is "session k of
    N" (``position`` null for a cancelled session, which is not counted)."""

    id = fields.Int()
    course_id = fields.Int()
    number = fields.Int()
    position = fields.Int(allow_none=True)
    count = fields.Int()
    starts_at = fields.Str(metadata={"format": "date-time"})
    ends_at = fields.Str(metadata={"format": "date-time"})
    room_id = fields.Int()
    site_id = fields.Int()
    clinician_id = fields.Int()
    status = fields.Str()
    phase = fields.Str(allow_none=True)
    modality = fields.Str()
    clients = fields.List(fields.Nested(SessionClientOut))


CalendarSessionList = list_schema(CalendarSessionOut, "CalendarSessionList")


class RescheduleSchema(Schema):
    starts_at = SchedulingDateTime()
    date = SchedulingDate()
    start_time = HHMM()
    room_id = BodyId()
    scope = fields.Str(load_default="this", validate=validate.OneOf(["this", "following"]))
    dry_run = StrictBool(load_default=False, metadata={
        "description": "Answer 200 with what would happen (PreviewOut) and write nothing."})

    @validates_schema
    def _when(self, data, **kwargs):
        has_instant = "starts_at" in data
        has_local = "date" in data and "start_time" in data
        # A starts_at with a stray date or start_time is refused, not half-read.
        if has_instant == has_local or (has_instant and ("date" in data or "start_time" in data)):
            raise ValidationError("Give either starts_at, or date and start_time.",
                                  field_name="starts_at")


class CancelSchema(Schema):
    by = fields.Str(required=True, validate=validate.OneOf(["client", "practice"]))
    reason = fields.Str(validate=validate.Length(max=1000))
    make_up = StrictBool()


class AttendanceSchema(Schema):
    status = fields.Str(required=True, validate=validate.OneOf(["attended", "no_show"]))
    client_id = BodyId()
    make_up = StrictBool()


class ExtendSchema(Schema):
    sessions = StrictInt(required=True, validate=validate.Range(min=1, max=52))
    reason = fields.Str(validate=validate.Length(min=1, max=1000))


class CloseSchema(Schema):
    outcome = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.Str(validate=validate.Length(max=1000))


class AvailabilityArgs(Schema):
    clinician_id = Id()
    modality = fields.Str(validate=validate.Length(min=1, max=50))
    weeks = fields.Int(required=True, validate=validate.Range(min=1, max=104))
    duration_minutes = fields.Int(required=True, validate=validate.Range(min=10, max=240))
    date_from = SchedulingDate(required=True, data_key="from")
    weekday = fields.Int(validate=validate.Range(min=0, max=6))
    earliest = HHMM()
    latest = HHMM()
    min_capacity = fields.Int(load_default=1, validate=validate.Range(min=1, max=500))
    interval_weeks = fields.Int(load_default=1, validate=validate.Range(min=1, max=8))
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=200))

    @validates_schema
    def _who(self, data, **kwargs):
        if ("clinician_id" in data) == ("modality" in data):
            raise ValidationError("Give either clinician_id or modality.",
                                  field_name="clinician_id")
        if "earliest" in data and "latest" in data and data["earliest"] >= data["latest"]:
            raise ValidationError("earliest must be before latest.", field_name="latest")


class SlotOut(Schema):
    clinician_id = fields.Int()
    room_id = fields.Int()
    weekday = fields.Int()
    start_time = fields.Str()
    end_time = fields.Str()
    first_date = fields.Str()
    dates = fields.List(fields.Str())
    skipped_weeks = fields.Int()


class AvailabilityOut(Schema):
    slots = fields.List(fields.Nested(SlotOut))
