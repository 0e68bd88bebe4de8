"""One exception hierarchy, turned into JSON by one handler.

Every error the API gives has the shape ``{"error": CODE, "message": TEXT,
...extra}``. Messages never contain client names: they name ids and fields.
"""
from __future__ import annotations

from typing import Any


class ConfigurationError(RuntimeError):
    """Start-up refused: bad configuration (unknown zone, unknown plugin...)."""


class AppError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.default_message()
        self.extra = extra

    def default_message(self) -> str:
        return self.code.replace("_", " ")

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"

    def default_message(self) -> str:
        return "Authentication required: send 'Authorization: Bearer <token>'."


class Forbidden(AppError):
    status = 403
    code = "forbidden"

    def default_message(self) -> str:
        return "Your role does not allow this."


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    """409; ``conflicts`` lists what clashes."""

    status = 409
    code = "conflict"


class RuleViolation(AppError):
    """422; ``violations`` is a list of {rule, plugin, message, field?}."""

    status = 422
    code = "rule_violation"

    def __init__(self, violations: list[dict], message: str | None = None, **extra):
        violations = [dict(v) for v in violations]
        for v in violations:
            v.setdefault("plugin", None)
        msg = message or "; ".join(v.get("message", v.get("rule", "")) for v in violations)
        super().__init__(msg, violations=violations, **extra)
        self.violations = violations


class ValidationFailed(RuleViolation):
    """422 from request validation: one violation per failing field."""

    code = "validation_error"


def violation(rule: str, message: str, *, field: str | None = None,
              plugin: str | None = None, **extra: Any) -> dict:
    v = {"rule": rule, "plugin": plugin, "message": message}
    if field is not None:
        v["field"] = field
    v.update(extra)
    return v


class Malformed(BadRequest):
    """400: the body cannot be parsed (not JSON, invalid UTF-8...)."""

    code = "malformed"


class UnsupportedMediaType(AppError):
    """415: a request body that is not JSON."""

    status = 415
    code = "unsupported_media_type"
