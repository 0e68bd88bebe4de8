"""Shared schemas: list arguments, list envelopes and the error body."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

MAX_LIMIT = 500


class ListArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class ErrorSchema(Schema):
    """Every error answer: ``{"error": CODE, "message": TEXT, ...}``; some
    carry more (``violations``, ``conflicts``, ``field``)."""

    class Meta:
        unknown = INCLUDE  # documented as open: errors may add keys

    error = fields.Str(required=True)
    message = fields.Str(required=True)
    violations = fields.List(fields.Dict())
    conflicts = fields.List(fields.Dict())


def list_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """``{"items": [...], "total": N}`` for the given item schema."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Int(required=True),
    })


def paginate(query, args, session):
    """Run ``query`` (a select) with limit/offset; return the list envelope."""
    from sqlalchemy import func, select

    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = session.scalars(query.limit(args["limit"]).offset(args["offset"])).unique().all()
    return {"items": items, "total": total}
