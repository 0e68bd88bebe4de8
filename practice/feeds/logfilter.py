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
from urllib.parse import unquote

from gunicorn.glogging import Logger as GunicornLogger

# A log line is cut into words (runs without spaces or quotes); a word whose
# path reaches a ``feeds/`` segment, in any case and however it is written
# (``/feeds//TOKEN.ics``, ``//feeds/x/TOKEN``, ``/%66eeds/TOKEN.ics``: the
# server decodes and routes all of these), keeps what comes before that
# segment, the ``.ics`` ending and the query string, and loses the rest.
_WORD = re.compile(r"[^\s\"']+")
_FEEDS = re.compile(r"/+feeds/", re.IGNORECASE)
MARK = "[redacted]"


def _redact_word(match: re.Match) -> str:
    word = match.group(0)
    path, sep, query = word.partition("?")
    plain = unquote(path) if "%" in path else path
    hit = _FEEDS.search(plain)
    if hit is None:
        return word
    rest = plain[hit.end():].split("#", 1)[0]
    suffix = ".ics" if rest.lower().endswith(".ics") else ""
    return plain[:hit.end()] + MARK + suffix + sep + query


def redact(text: str) -> str:
    """``text`` with every feed token replaced by ``[redacted]``."""
    if "feeds" not in text.lower() and "%" not in text:
        return text  # the usual line: nothing to look at
    return _WORD.sub(_redact_word, text)


class RedactFeedTokens(logging.Filter):
    """Rewrites a record's message with feed tokens replaced; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
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
