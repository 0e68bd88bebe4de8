"""The migrations, on a database nobody has touched: a new SQLite file, or a
PostgreSQL database created (and dropped) here when the run is on PostgreSQL.

``db upgrade`` must build the whole schema, and Alembic's autogenerate
comparison must find nothing between the models and the migrations (a model
change without its migration fails here).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import time
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, make_url, select, text

from practice import create_app
from practice.extensions import db
from practice.models import Client, Clinician, WorkingHours

PG_URL = os.environ.get("TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database of the kind this run tests."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url = make_url(PG_URL)
    name = f"practice_mig_{secrets.token_hex(4)}"
    admin = dict(host=url.host, port=url.port or 5432, user=url.username,
                 password=url.password, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_app(fresh_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def tables(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def test_fresh_database_is_empty(fresh_app):
    assert tables(fresh_app) == set()


def test_db_upgrade_command_creates_every_table(fresh_app):
    result = fresh_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert tables(fresh_app) == model_tables() | {"alembic_version"}
    assert {"users", "clinicians", "working_hours", "rooms", "sites", "clients", "courses",
            "course_clients", "sessions", "session_participants", "closures", "absences",
            "api_tokens", "audit_log", "practice_settings"} <= model_tables()


def test_models_and_migrations_agree(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    assert diff == [], "models differ from migrations: run `flask --app wsgi db migrate`"


def test_upgrade_is_repeatable_and_reversible(fresh_app):
    with fresh_app.app_context():
        upgrade()
        upgrade()  # at head: nothing to do, no error
        downgrade(revision="base")
    assert tables(fresh_app) <= {"alembic_version"}
    with fresh_app.app_context():
        upgrade()
    assert tables(fresh_app) == model_tables() | {"alembic_version"}


def test_upgrade_keeps_existing_rows(fresh_app):
    """Down to the first revision and up again: the directory survives."""
    with fresh_app.app_context():
        upgrade()
        c = Clinician(name="Dr Kept", email="kept@clinic.example", active=True)
        c.working_hours = [WorkingHours(weekday=0, start=time(9), end=time(17))]
        db.session.add_all([c, Client(name="Kept Client")])
        db.session.commit()
        db.session.remove()
        downgrade(revision="0001")
        upgrade()
        assert db.session.scalar(select(Clinician.name)) == "Dr Kept"
        assert db.session.scalar(select(func.count()).select_from(WorkingHours)) == 1
        assert db.session.scalar(select(func.count()).select_from(Client)) == 1
        # the same session: on SQLite every transaction holds the write lock
        heads = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert heads and "0001" not in heads
        db.session.rollback()


def test_fresh_machine_commands(fresh_url, tmp_path):
    """What `make run` does: the real `flask --app wsgi db upgrade` in a new
    process, then importing wsgi with warnings as errors."""
    env = {**os.environ, "DATABASE_URL": fresh_url, "SECRET_KEY": "test",
           "PRACTICE_PLUGINS": ""}
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run([str(flask), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-W", "error", "-c", "import wsgi; print(wsgi.app.name)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "practice"
