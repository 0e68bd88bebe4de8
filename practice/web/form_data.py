"""Form posts read as the JSON the API's schemas expect.

A form carries only text, while the API's body schemas are strict about JSON
types (``StrictInt``, ``StrictBool``: "5" or "yes" are type errors there).
``json_like`` turns the text of a form into the JSON a browser script would
have sent, without judging it: "12" becomes 12 and "true" becomes True, and
anything else is passed on unchanged for the schema to refuse with its own
message. Fields the schema does not declare (``csrf_token``, buttons) are
left out so they are not "unknown fields".
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields

_INT = re.compile(r"^[+-]?\d{1,15}$")
_BOOLS = {"true": True, "false": False}


def _typed(field: fields.Field, text: str) -> Any:
    if isinstance(field, fields.Boolean):
        return _BOOLS.get(text.lower(), text)
    if isinstance(field, fields.Integer) and _INT.match(text):
        return int(text)
    return text


def json_like(schema: Schema, form: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's own fields of ``form`` (a request.form), typed as JSON.

    Text is stripped of surrounding spaces; an empty field stays "" so
    ``load_form`` leaves it out (the schema's defaults and "required" apply).
    """
    out: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        if key not in form:
            continue
        value = form.get(key)
        if isinstance(value, str):
            value = value.strip()
            if value:
                value = _typed(field, value)
        out[key] = value
    return out


# marshmallow's wording, said for a person at a form rather than a JSON client.
_PLAIN = {
    "Missing data for required field.": "Required.",
    "Not a valid date.": "Not a valid date: use YYYY-MM-DD, or the date picker.",
    "Not a valid integer.": "Enter a whole number.",
    "Not a valid email address.": "Not a valid email address (name@example.org).",
}


def plain_errors(errors: dict[str, str]) -> dict[str, str]:
    """``load_form``'s errors with marshmallow's stock messages made plain."""
    out = {}
    for key, text in errors.items():
        for stock, plain in _PLAIN.items():
            text = text.replace(stock, plain)
        out[key] = text
    return out


def check_form(schema: Schema, form: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """A posted form validated by an API schema: (values, errors by field)."""
    from .common import load_form

    values, errors = load_form(schema, json_like(schema, form))
    return values, plain_errors(errors)
