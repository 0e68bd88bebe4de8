"""``GET``/``HEAD /feeds/<token>.ics``: no login, the token is the credential.

Answers ``text/calendar; charset=utf-8`` whatever the ``Accept`` header
(Google sends none), with a strong ETag hashed from the body and
Last-Modified; ``If-None-Match`` (or, without it, ``If-Modified-Since``)
gives 304 with no body. Unknown and revoked tokens get a plain 404. Every
fetch is recorded (``fetchlog``: queued once the response is sent, written in
batches), with the link's id and never the token; errors are logged without
the URL, which holds the token.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..db import utcnow
from ..extensions import db
from ..services import feeds as svc
from .fetchlog import fetch_log
from .render import BuiltFeed, build_feed

log = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__)

COMMON_HEADERS = {
    # Calendar apps revalidate on every poll; shared caches must not keep it.
    "Cache-Control": "private, no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CONTENT_TYPE = "text/calendar; charset=utf-8"


def _not_modified(built: BuiltFeed) -> bool:
    # RFC 9110 13.2.2: If-None-Match, when present, decides alone.
    if request.headers.get("If-None-Match") is not None:
        tags = request.if_none_match
        return tags.star_tag or tags.contains_weak(built.etag.strip('"'))
    since = request.if_modified_since  # None when absent or unparseable
    return since is not None and built.last_modified <= since


def _after_response(response: Response, feed_token_id: int | None) -> Response:
    app = current_app._get_current_object()
    status = response.status_code
    user_agent = request.headers.get("User-Agent")
    at = utcnow()

    def record() -> None:
        # The client already has its answer; a failure here must not matter
        # to it, only to the log.
        try:
            fetch_log(app).record(feed_token_id, status, user_agent, at)
        except Exception:  # noqa: BLE001
            log.exception("could not record a feed fetch (feed link %s)", feed_token_id)

    response.call_on_close(record)
    return response


@bp.route("/feeds/<token>.ics", methods=["GET"])
def feed(token: str) -> Response:
    """One clinician's or room's sessions as iCalendar (HEAD too)."""
    # Only reads until the answer is sent: no write lock on SQLite.
    db.session.connection(execution_options={"read_only": True})
    row = svc.find_live_feed(token)
    if row is None:
        resp = Response("Not found\n", status=404, mimetype="text/plain",
                        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
        return _after_response(resp, None)
    built = build_feed(current_app, row)
    feed_id = row.id
    # End the read before answering. COMMIT, not ROLLBACK: it is the same to
    # the database, but psycopg forgets its prepared statements on every
    # rollback, and the feed's change check runs 3-4x faster prepared on
    # PostgreSQL (no planning; a plan that probes by key). Plugin code, the
    # only code here that could change an object, ran inside build_feed,
    # which rolls that back itself.
    db.session.commit()
    headers = {**COMMON_HEADERS, "ETag": built.etag,
               "Last-Modified": built.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    if _not_modified(built):
        return _after_response(Response(status=304, headers=headers), feed_id)
    resp = Response(built.body, status=200, headers=headers, content_type=CONTENT_TYPE)
    return _after_response(resp, feed_id)


@bp.errorhandler(Exception)
def _feed_error(err: Exception):
    """Never log the request path here: it holds the token."""
    if isinstance(err, HTTPException):
        return Response(f"{err.code} {err.name}\n", status=err.code or 500,
                        mimetype="text/plain")
    db.session.rollback()
    if isinstance(err, OperationalError):
        log.error("feed: database unavailable (%s)", type(err.orig).__name__)
        return Response("The database is busy; try again.\n", status=503,
                        mimetype="text/plain", headers={"Retry-After": "30"})
    log.exception("feed: unexpected %s", type(err).__name__)  # no URL, no token
    return Response("Something went wrong.\n", status=500, mimetype="text/plain")
