"""iCalendar feeds: rendering, caching and the ``/feeds/<token>.ics`` route.

``init_feeds(app)`` registers the route, the per-app caches, the fetch
record's writer and the log filter that keeps feed tokens out of the access log. The use cases for feed
links (create, rotate, revoke) live in ``practice.services.feeds``; the API
routes in ``practice.api.feeds``.
"""
from __future__ import annotations

import logging

from flask import Flask


def init_feeds(app: Flask) -> None:
    from .fetchlog import FetchLog
    from .logfilter import install
    from .render import make_state
    from .views import bp

    app.extensions["practice_feeds"] = make_state(app)
    app.extensions["practice_feed_fetches"] = FetchLog(app)
    app.register_blueprint(bp)
    # The development server logs every request line, token included.
    install(logging.getLogger("werkzeug"))
