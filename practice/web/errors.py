"""HTML error pages for pages; the API and feeds keep their JSON errors.

The API's handlers (registered by ``init_api``) stay the answer for ``/api``
and ``/feeds``: each is wrapped, not replaced, so both kinds of client get
their own shape from one set of registrations.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import AppError
from ..extensions import db

log = logging.getLogger(__name__)

TITLES = {400: "The request could not be used", 401: "Please sign in",
          403: "Not allowed", 404: "Page not found", 405: "Not allowed here",
          409: "Conflict", 413: "Too large", 422: "Not valid",
          429: "Too many attempts", 500: "Something went wrong", 503: "Busy"}
MESSAGES = {
    403: "Your role does not allow this page. Your start page has what you can use.",
    404: "There is no page at this address, or it is not yours to see.",
    500: "Something went wrong on our side. Nothing you typed was saved; please try again.",
    503: "The database is busy. Please try again in a moment.",
}


def is_page_request() -> bool:
    path = request.path
    return not (path.startswith("/api/") or path == "/api" or path.startswith("/feeds/"))


def page_error(err: Exception):
    if isinstance(err, HTTPException):
        status = err.code or 500
        message = MESSAGES.get(status) or err.description
    elif isinstance(err, AppError):
        status = err.status
        message = MESSAGES.get(status) or err.message
    else:
        status = 500
        message = MESSAGES[500]
    if status >= 500:
        db.session.rollback()
        if not isinstance(err, HTTPException):
            log.exception("unhandled error on %s %s", request.method, request.path)
    if status == 400 and "CSRF" in str(getattr(err, "description", "")):
        message = ("This form was sent without its security token, or the token has expired. "
                   "Nothing was changed: go back, reload the page and try again.")
    resp = render_template("error.html", status=status, title=TITLES.get(status, "Error"),
                           message=message)
    headers = {}
    if isinstance(err, HTTPException) and status in (405, 429):
        headers = {k: v for k, v in err.get_response().headers.items()
                   if k in ("Allow", "Retry-After")}
    return resp, status, headers


def init_errors(app: Flask) -> None:
    """Wrap every handler the API registered: pages get HTML, the rest JSON."""
    registered = dict(app.error_handler_spec.get(None, {}).get(None, {}))

    def wrap(api_handler):
        def handle(err):
            if is_page_request():
                return page_error(err)
            return api_handler(err)
        return handle

    for exc_class, handler in registered.items():
        app.register_error_handler(exc_class, wrap(handler))
