"""The JSON API under /api: blueprints, bearer authentication, JSON errors.

Every error leaves as ``{"error": CODE, "message": TEXT, ...}``: our own
``AppError`` hierarchy, werkzeug's HTTP errors (404, 405...) and webargs'
validation failures (422 with one violation per field) alike.
"""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..auth import user_from_bearer, user_from_session
from ..errors import (AppError, Conflict, Forbidden, Malformed, Unauthorized,
                      UnsupportedMediaType, ValidationFailed, violation)
from ..extensions import api, csrf, db
from .common import ErrorSchema
from .fields import HHMM

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
              413: "too_large", 415: "unsupported_media_type", 422: "validation_error",
              429: "too_many_requests", 431: "header_too_large"}


def _flatten(messages, prefix=""):
    """webargs' nested error dict -> [(field path, message)]."""
    out = []
    if isinstance(messages, dict):
        for key, val in messages.items():
            if key in ("json", "query", "path", "form", "headers", "files") and not prefix:
                out.extend(_flatten(val, ""))
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(val, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend((prefix or "_schema", m) for m in messages)
    elif isinstance(messages, list):
        for i, val in enumerate(messages):
            out.extend(_flatten(val, f"{prefix}[{i}]"))
    else:
        out.append((prefix or "_schema", str(messages)))
    return out


def validation_error_from_webargs(messages) -> ValidationFailed:
    violations = [{"rule": "schema", "plugin": None, "field": field, "message": msg}
                  for field, msg in _flatten(messages)]
    return ValidationFailed(violations, message="The request is not valid: " + "; ".join(
        f"{v['field']}: {v['message']}" for v in violations))


def json_error(err: AppError):
    body = err.to_dict()
    if isinstance(err, Conflict) and body.get("conflicts"):
        # A clinician learns "busy" and a time, never another clinician's course.
        from ..services.conflicts import conflicts_for

        body["conflicts"] = conflicts_for(getattr(g, "api_user", None), body["conflicts"])
    resp = jsonify(body)
    resp.status_code = err.status
    return resp


def _handle_http(err: HTTPException):
    if err.code == 422:
        messages = (getattr(err, "data", None) or {}).get("messages", {})
        return json_error(validation_error_from_webargs(messages))
    code = HTTP_CODES.get(err.code or 500, "error")
    message = err.description or code
    if err.code == 400 and "JSON" in str(getattr(err, "data", "") or message):
        code = "malformed"
    data = getattr(err, "data", None) or {}
    if err.code == 400 and data.get("messages"):
        message = "; ".join(m for _, m in _flatten(data["messages"]))
        code = "malformed"
    resp = jsonify({"error": code, "message": message})
    resp.status_code = err.code or 500
    if err.code == 405 and hasattr(err, "valid_methods") and err.valid_methods:
        resp.headers["Allow"] = ", ".join(err.valid_methods)
    return resp


def _bad_text(value: str) -> bool:
    """NUL (PostgreSQL refuses it) or a lone surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_bad_text(value) -> str | None:
    """The path of the first string (or key) in a JSON value with bad text.

    Iterative, so a deeply nested body cannot exhaust the stack here.
    """
    stack = [("", value)]
    while stack:
        path, val = stack.pop()
        if isinstance(val, str):
            if _bad_text(val):
                return path or "_schema"
        elif isinstance(val, dict):
            for key, sub in val.items():
                if _bad_text(str(key)):
                    return path or "_schema"
                stack.append((f"{path}.{key}" if path else str(key), sub))
        elif isinstance(val, list):
            stack.extend((f"{path}.{i}" if path else str(i), sub) for i, sub in enumerate(val))
    return None


def check_request_input() -> None:
    """Refuse, before any view runs, input no schema can be trusted with.

    A body that is not JSON would otherwise read as "no fields given", and
    text with NUL characters or lone surrogates would reach the database
    driver and fail there (a 500) instead of answering 422.
    """
    for key, val in request.args.items(multi=True):
        if _bad_text(key) or _bad_text(val):
            raise ValidationFailed([violation(
                "schema", "Text may not contain NUL characters.",
                field="_query" if _bad_text(key) else key)])
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.content_length and not request.get_data(cache=True):
        return  # an empty body: the schema says what is missing
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Send the body as JSON with 'Content-Type: application/json' "
            f"(got {request.mimetype or 'no content type'!r}).")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # json gives up on very deep nesting with RecursionError, not ValueError
        raise Malformed("The body is nested too deeply.") from None
    if body is None and request.get_data(cache=True).strip() != b"null":
        raise Malformed("The body is not valid JSON.")
    field = _find_bad_text(body)
    if field:
        raise ValidationFailed([violation(
            "schema", "Text may not contain NUL characters or unpaired surrogates.",
            field=field)])


def roles_for_request(app: Flask) -> tuple[str, ...] | None:
    """The roles the view about to answer requires (``roles_required``), or
    None for a view that needs no sign-in (``POST /api/tokens``, the
    OpenAPI document) or when no view matches (404, 405 say so)."""
    endpoint = request.url_rule.endpoint if request.url_rule is not None else None
    view = app.view_functions.get(endpoint) if endpoint else None
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:  # a MethodView: the method's own decorator
        method = request.method.lower()
        view = getattr(view_class, method, None) or (
            getattr(view_class, "get", None) if method == "head" else None)
    return getattr(view, "required_roles", None)


class HeaderTooLarge(AppError):
    """431: a request header (or their number) over the API's limits."""

    status = 431
    code = "header_too_large"


# Request headers the API reads, at most: one field (name and value) of
# 8 KiB, 100 fields. gunicorn.conf.py lets larger ones through to here (up
# to its own, higher, limits), so they get this JSON 431 rather than the
# server's HTML page.
MAX_HEADER_FIELD = 8190
MAX_HEADER_FIELDS = 100


def check_request_headers() -> None:
    fields = request.headers
    if len(fields) > MAX_HEADER_FIELDS or any(
            len(name) + len(value) > MAX_HEADER_FIELD for name, value in fields.items()):
        raise HeaderTooLarge(
            f"The request's headers are too large: at most {MAX_HEADER_FIELDS} fields "
            f"of {MAX_HEADER_FIELD} bytes each.")


def refuse_cut_body() -> None:
    """413 for a streamed (chunked) body over MAX_CONTENT_LENGTH.

    werkzeug stops reading such a body at the limit without a word, so it
    would read as truncated JSON (400); one more byte waiting on the input
    means it was longer than allowed, as a Content-Length over it says.
    """
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _handle_integrity(err: IntegrityError):
    db.session.rollback()
    log.warning("integrity error: %s", type(err.orig).__name__)
    return jsonify({"error": "conflict",
                    "message": "The change conflicts with existing data."}), 409


def _handle_data_error(err: DataError):
    # A value the database cannot store (out of range, bad text): bad input
    # the schemas missed. Refuse it as such rather than answering 500.
    db.session.rollback()
    log.warning("database refused a value: %s", type(err.orig).__name__)
    return jsonify({"error": "validation_error",
                    "message": "A value is out of the range the database can store.",
                    "violations": []}), 422


def _handle_operational(err: OperationalError):
    db.session.rollback()
    log.error("database error: %s", type(err.orig).__name__)
    return jsonify({"error": "unavailable",
                    "message": "The database is busy; try again."}), 503


def _handle_unexpected(err: Exception):
    if isinstance(err, HTTPException):
        return _handle_http(err)
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return jsonify({"error": "internal_error", "message": "Something went wrong."}), 500


def init_api(app: Flask) -> None:
    # Document errors as they are sent (json_error), not flask-smorest's shape.
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app)
    api.register_field(HHMM, "string", None)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]

    from . import accounts, clinical, courses, directory, feeds, sessions, users

    for module in (accounts, directory, courses, clinical, feeds, sessions, users):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens, never cookies, authenticate /api

    from ..plugin_manager import plugin_blueprints

    for bp in plugin_blueprints(app):  # enabled plugins; read-only ones of the others
        (api if hasattr(bp, "register_views_in_doc") else app).register_blueprint(bp)
        csrf.exempt(bp)

    @app.before_request
    def _bearer():
        # In this order: the request's own shape (431), who asks (401, 403
        # when the view names its roles), and only then the body (413, 415,
        # 400, 422), so nothing about a body is told to someone not allowed
        # to send it. POST /api/tokens names no roles: its body is checked.
        if request.path.startswith("/api/"):
            check_request_headers()
            g.api_user = user_from_bearer() or user_from_session()
            roles = roles_for_request(app)
            if roles is not None:
                if g.api_user is None:
                    raise Unauthorized()
                if g.api_user.role not in roles:
                    raise Forbidden()
            refuse_cut_body()
            check_request_input()

    @app.after_request
    def _no_store(resp):
        # API answers hold client data and tokens: never kept by a cache.
        # (Feeds, under /feeds, keep their own caching headers.)
        if request.path == "/api" or request.path.startswith("/api/"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    app.register_error_handler(AppError, json_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(IntegrityError, _handle_integrity)
    app.register_error_handler(DataError, _handle_data_error)
    app.register_error_handler(OperationalError, _handle_operational)
    app.register_error_handler(Exception, _handle_unexpected)

