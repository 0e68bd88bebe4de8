"""Settings from the environment and the optional ``instance/config.py``.

Precedence, lowest first: the defaults below, ``instance/config.py``, the
environment, then the mapping given to ``create_app(config)`` (tests).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import ConfigurationError

ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "PRACTICE_TIMEZONE",
    "PRACTICE_PLUGINS",
    "PRACTICE_NAME",
    "PRACTICE_ENV",
    "PRACTICE_BASE_URL",
)

DEFAULTS = {
    "PRACTICE_TIMEZONE": "Europe/London",
    "PRACTICE_PLUGINS": "",
    "PRACTICE_NAME": "Demo Practice",
    "PRACTICE_ENV": "development",
    "PRACTICE_BASE_URL": None,
    "TOKEN_LIFETIME_HOURS": 12,
    # Failed sign-ins, counted in the database (practice/login_limits.py):
    # 5 per account and address in 15 minutes, then 429 with Retry-After.
    "LOGIN_LIMIT_ENABLED": True,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # A page's CSRF token lives as long as its signed-in session: a front desk
    # that leaves the booking page open over lunch can still book.
    "WTF_CSRF_TIME_LIMIT": None,
    "API_TITLE": "Practice API",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "JSON_SORT_KEYS": False,
    # No JSON body the API accepts comes near this; bigger ones get a 413.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
}


def load_config(app, overrides: dict | None) -> None:
    """Fill ``app.config`` and check it; raise ConfigurationError on nonsense."""
    app.config.update(DEFAULTS)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if overrides:
        app.config.update(overrides)

    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'practice.sqlite3'}"
    url = app.config["DATABASE_URL"]
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship with; plain URLs would pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = url

    production = app.config["PRACTICE_ENV"] == "production"
    app.config["SESSION_COOKIE_SECURE"] = production
    app.config["REMEMBER_COOKIE_SECURE"] = production
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigurationError(
                "SECRET_KEY is not set. Production (PRACTICE_ENV=production) refuses "
                "to start without one: set SECRET_KEY in the environment or in "
                "instance/config.py."
            )
        app.config["SECRET_KEY"] = _dev_secret(instance)
    _check_base_url(app.config, production)

    tz = app.config["PRACTICE_TIMEZONE"]
    try:
        if tz not in available_timezones():
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigurationError(
            f"PRACTICE_TIMEZONE={tz!r} is not an IANA time zone name "
            "(for example Europe/London or America/New_York)."
        ) from err

    plugins = app.config["PRACTICE_PLUGINS"]
    if isinstance(plugins, str):
        plugins = [p.strip() for p in plugins.split(",") if p.strip()]
    app.config["PRACTICE_PLUGINS"] = list(plugins)


def _check_base_url(config, production: bool) -> None:
    """Links that leave the app (feed URLs) start with PRACTICE_BASE_URL.

    In production it is required: without it a link would be built from the
    request's Host header, which the client chooses (a forged Host would put
    an attacker's address in front of a feed token). Elsewhere it is
    optional, and checked when given.
    """
    base = config.get("PRACTICE_BASE_URL")
    if not base:
        if production:
            raise ConfigurationError(
                "PRACTICE_BASE_URL is not set. Production (PRACTICE_ENV=production) refuses "
                "to start without it, so that links are never built from a request's Host "
                "header: set it to the address users open, e.g. "
                "PRACTICE_BASE_URL=https://practice.example.org")
        return
    parts = urlsplit(str(base))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"PRACTICE_BASE_URL={base!r} is not an http(s) address like "
            "https://practice.example.org (a path is allowed; no query, fragment or "
            "credentials).")


def _dev_secret(instance: Path) -> str:
    """A generated key kept in instance/ so every worker and restart shares it."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
