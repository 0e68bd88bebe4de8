"""Keep feed tokens out of access logs.

A feed URL is its own credential (``/feeds/<token>.ics``), so every log line
that can hold a request path goes through ``RedactFeedTokens``:

- the development server's ``werkzeug`` logger (installed by ``init_feeds``);
- gunicorn's ``gunicorn.access`` and ``gunicorn.error`` loggers, through
  ``RedactingGunicornLogger`` (named by ``gunicorn.conf.py``), which adds the
  filter again whenever gunicorn (re)configures its logging.
"""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

# Everything after /feeds/ up to a slash, space, quote, ? or #: the token,
# whether or not the path ends in .ics.
FEED_PATH = re.compile(r"(/feeds/)[^/\s?#\"']+?(\.ics)?(?=$|[/\s?#\"'])")
REDACTED = r"\1[redacted]\2"


def redact(text: str) -> str:
    return FEED_PATH.sub(REDACTED, text)


class RedactFeedTokens(logging.Filter):
    """Rewrites a record's message with feed tokens replaced; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem
            return True
        if "/feeds/" in message:
            record.msg = redact(message)
            record.args = None
        return True


def install(logger: logging.Logger) -> None:
    """Add the filter to ``logger`` once."""
    if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
        logger.addFilter(RedactFeedTokens())


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with feed tokens redacted from access and error logs."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        install(self.access_log)
        install(self.error_log)
