"""Practice: scheduling and course management for psychotherapy practices."""
from __future__ import annotations

from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, plugins, API, feeds, web, CLI."""
    # INSTANCE_PATH (absolute) moves instance/ elsewhere: tests, packaged installs.
    # Pages' templates and static files (vendor/ included) live in web/.
    app = Flask(__name__, instance_relative_config=True,
                instance_path=(config or {}).get("INSTANCE_PATH"),
                template_folder="web/templates", static_folder="web/static")

    # 1. Settings: defaults < instance/config.py < environment < ``config``.
    from .config import load_config

    load_config(app, config)

    # 2. Database and extensions.
    from .db import configure_engine
    from .extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=_migrations_dir(), compare_type=True,
                     render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    from . import models  # noqa: F401  (register the tables)

    # 3. Plugins: the configured ones, or none; each checks its own settings.
    #    (Their blueprints join the API in 4, their commands the CLI in 5.)
    from .plugin_manager import configure_plugins, make_plugin_manager

    make_plugin_manager(app, extra=app.config.get("PRACTICE_EXTRA_PLUGINS"))
    configure_plugins(app)

    # 4. HTTP: the JSON API.
    from .api import init_api

    init_api(app)
    from .feeds import init_feeds

    init_feeds(app)  # /feeds/<token>.ics, its caches and the token-redacting log filter
    from .web import init_web

    init_web(app)  # pages; after the API, whose error handlers it wraps for HTML

    # 5. Command line.
    from .cli import init_cli

    init_cli(app)
    return app


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
