"""gunicorn settings, read automatically from the working directory
(``gunicorn wsgi:app``; command-line options override these).

What every deployment needs:

- feed URLs carry their own credential (``/feeds/<token>.ics``), so the
  access and error logs go through a logger that replaces the token with
  ``[redacted]``;
- a request header too large gets a JSON 431 under ``/api``: gunicorn's own
  header limits sit above the API's (8 KiB a field, 100 fields), so such a
  request reaches the app and gets its JSON answer; past gunicorn's limits,
  its worker (``practice.serving.JsonErrorWorker``) answers the same JSON.
"""
import os

logger_class = "practice.feeds.logfilter.RedactingGunicornLogger"

# Sensible defaults, each overridable from the environment or the command line.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")

# Above the API's own limits (practice/api/__init__.py), so the app answers.
limit_request_fields = 200
limit_request_field_size = 64 * 1024
worker_class = "practice.serving.JsonErrorWorker"
