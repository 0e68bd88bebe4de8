"""gunicorn settings, read automatically from the working directory
(``gunicorn wsgi:app``; command-line options override these).

The one thing every deployment needs: feed URLs carry their own credential
(``/feeds/<token>.ics``), so the access and error logs go through a logger
that replaces the token with ``[redacted]``.
"""
import os

logger_class = "practice.feeds.logfilter.RedactingGunicornLogger"

# Sensible defaults, each overridable from the environment or the command line.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
