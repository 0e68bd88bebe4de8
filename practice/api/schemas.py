"""Request and response schemas for the directory resources.

Declared once: flask-smorest validates requests with them and apispec builds
the OpenAPI document from them.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import ListArgs, list_schema
from .fields import HHMM, MAX_ID, BirthDate, Id, SchedulingDate, StrictBool, StrictInt

_NOT_BLANK = validate.Regexp(r"\s*\S", error="Must not be blank.")


def Name(**kw) -> fields.Str:  # noqa: N802  (reads like a field class)
    """A display name: 1-200 characters, not only spaces."""
    return fields.Str(validate=[validate.Length(min=1, max=200), _NOT_BLANK], **kw)


def for_update(schema_cls: type[Schema]) -> Schema:
    """The schema of a PATCH body: every top-level field optional.

    ``partial=True`` would reach into nested schemas too, so a working-hours
    block without its ``start`` would pass; naming the top-level fields keeps
    nested objects whole.
    """
    names = tuple(n for n, f in schema_cls._declared_fields.items() if not f.dump_only)
    return schema_cls(partial=names)


class WorkingHoursSchema(Schema):
    weekday = StrictInt(required=True, validate=validate.Range(min=0, max=6),
                         metadata={"description": "Monday is 0"})
    start = HHMM(required=True)
    end = HHMM(required=True)


class ClinicianSchema(Schema):
    id = fields.Int(dump_only=True)
    name = Name(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    active = StrictBool()
    modalities = fields.List(fields.Str(validate=validate.Regexp(r"^[a-z][a-z0-9_-]{0,49}$")),
                             validate=validate.Length(max=50))
    working_hours = fields.List(fields.Nested(WorkingHoursSchema), validate=validate.Length(max=70))


class SiteSchema(Schema):
    id = fields.Int(dump_only=True)
    name = Name(required=True)
    address = fields.Str(allow_none=True, validate=validate.Length(max=500))


class RoomSchema(Schema):
    id = fields.Int(dump_only=True)
    name = Name(required=True)
    site_id = Id(allow_none=True)
    site_name = fields.Str(dump_only=True, attribute="site.name")
    capacity = StrictInt(validate=validate.Range(min=1, max=500))
    active = StrictBool()
    attributes = fields.List(fields.Str(validate=validate.Length(min=1, max=50)),
                             validate=validate.Length(max=30))


class ClientSchema(Schema):
    id = fields.Int(dump_only=True)
    name = Name(required=True)
    date_of_birth = BirthDate(allow_none=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.Str(allow_none=True, validate=validate.Length(max=50))


class ClosureSchema(Schema):
    id = fields.Int(dump_only=True)
    date = SchedulingDate(required=True)
    reason = fields.Str(required=True, validate=[validate.Length(min=1, max=200), _NOT_BLANK])
    site_id = Id(allow_none=True, load_default=None, metadata={
        "description": "The site closed; none for the whole practice. One closure per date "
                       "and site (409 for a second)."})


class AbsenceSchema(Schema):
    id = fields.Int(dump_only=True)
    clinician_id = fields.Int(dump_only=True)
    start_date = SchedulingDate(required=True)
    end_date = SchedulingDate(required=True)
    reason = fields.Str(load_default="", validate=validate.Length(max=200))


class TokenRequestSchema(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=1, max=254))
    password = fields.Str(required=True, validate=validate.Length(min=1, max=1024),
                          load_only=True)


class TokenSchema(Schema):
    token = fields.Str(required=True)
    expires_at = fields.AwareDateTime(required=True)


class AuditEntrySchema(Schema):
    id = fields.Int()
    at = fields.AwareDateTime()
    user_id = fields.Int(allow_none=True)
    action = fields.Str()
    object_type = fields.Str()
    object_id = fields.Int(allow_none=True)
    details = fields.Dict()


class ClientListArgs(ListArgs):
    """``GET /api/clients``: the list, optionally searched with ``q``."""

    q = fields.Str(validate=[validate.Length(min=1, max=200), _NOT_BLANK], metadata={
        "description": "A date of birth (YYYY-MM-DD, matched exactly) or part of the name "
                       "(case-insensitive)."})


class AuditArgs(ListArgs):
    object_type = fields.Str(validate=validate.Length(max=40))
    object_id = fields.Int(validate=validate.Range(min=0, max=MAX_ID))
    user_id = fields.Int(validate=validate.Range(min=0, max=MAX_ID))
    action = fields.Str(validate=validate.Length(max=40))


ClinicianList = list_schema(ClinicianSchema, "ClinicianList")
SiteList = list_schema(SiteSchema, "SiteList")
RoomList = list_schema(RoomSchema, "RoomList")
ClientList = list_schema(ClientSchema, "ClientList")
ClosureList = list_schema(ClosureSchema, "ClosureList")
AbsenceList = list_schema(AbsenceSchema, "AbsenceList")
AuditList = list_schema(AuditEntrySchema, "AuditList")
