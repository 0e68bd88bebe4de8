"""gunicorn's worker for this app (named by ``gunicorn.conf.py``).

gunicorn refuses a request whose headers pass its limits before the app
sees it, with an HTML page. ``gunicorn.conf.py`` sets those limits above the
API's own (``practice.api.MAX_HEADER_FIELD``, ``MAX_HEADER_FIELDS``), so an
oversized header usually reaches the app and gets its JSON 431 under
``/api``; this worker answers the rest (beyond gunicorn's limits, where the
path is not known yet) with the same JSON body rather than HTML. Everything
else is gunicorn's sync worker as it is.
"""
from __future__ import annotations

import json

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders
from gunicorn.workers.sync import SyncWorker

_BODY = json.dumps({
    "error": "header_too_large",
    "message": "The request's headers are too large for the server.",
}).encode()
_ANSWER = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Connection: close\r\n"
    b"Content-Type: application/json\r\n"
    b"Cache-Control: no-store\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY)


class JsonErrorWorker(SyncWorker):
    """gunicorn's sync worker; a 431 it gives itself is JSON."""

    def handle_error(self, req, client, addr, exc):
        if not isinstance(exc, LimitRequestHeaders):
            return super().handle_error(req, client, addr, exc)
        addr = addr or ("", -1)
        self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        try:
            util.write_nonblock(client, _ANSWER)
        except Exception:  # noqa: BLE001 - the client may be gone; gunicorn does the same
            self.log.debug("Failed to send error message.")
        return None
