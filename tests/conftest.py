"""Test fixtures: a real database (a SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), built once per run by the real migrations and
emptied between tests; factory fixtures for the directory objects.
"""
from __future__ import annotations

import os
from datetime import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from practice import create_app
from practice.auth import issue_token
from practice.extensions import db
from practice.models import (Client, Clinician, ClinicianModality, Room, Site, User,
                             WorkingHours)
from practice.services.accounts import create_user

PG_URL = os.environ.get("TEST_DATABASE_URL")


def database_url(tmp_path_factory) -> str:
    if PG_URL:
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def base_config(url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp),  # never the checkout's instance/ (or its config.py)
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "PRACTICE_TIMEZONE": "Europe/London",
        "PRACTICE_PLUGINS": "",
        "WTF_CSRF_ENABLED": False,
        "LOGIN_LIMIT_ENABLED": False,  # tests of the limit turn it on
        # Feed fetches written as each response closes, so tests can count them.
        "FEED_FETCH_FLUSH_SECONDS": 0,
        # Still argon2id, at a cost that keeps a thousand tests quick.
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    url = database_url(tmp_path_factory)
    app = create_app(base_config(url, tmp_path_factory.getbasetemp()))
    with app.app_context():
        if PG_URL:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            # audit_log's triggers refuse DELETE (PostgreSQL's TRUNCATE fires no
            # row trigger). The reset drops them and creates them again, exactly
            # as the migration wrote them, in the same transaction: the
            # database keeps no switch that turns them off.
            guards = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_log'")).all()
            for name, _ in guards:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            for _, sql in guards:
                conn.execute(text(sql))
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(text(
                "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None


@pytest.fixture
def app_config(db_url, tmp_path):
    """Override in a test module (or parametrize) to change settings."""
    return base_config(db_url, tmp_path)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """A test client bound to one bearer token: ``api.get('/api/rooms')``."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers):
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        return h

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
            raise AttributeError(method)

        def call(url, headers=None, **kw):
            return getattr(self.client, method)(url, headers=self._headers(headers), **kw)

        return call


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role: str = "admin", clinician_id: int | None = None, email: str | None = None,
             password: str = "correct horse battery"):
        with app.app_context():
            if role == "clinician" and clinician_id is None:
                clinician_id = _clinician(f"Dr Test {next(counter)}").id
            user = create_user(email or f"{role}{next(counter)}@test.example", role, password,
                               clinician_id=clinician_id)
            return user.id

    return make


@pytest.fixture
def token_for(app):
    def make(user_id: int) -> str:
        with app.app_context():
            plain, _ = issue_token(db.session.get(User, user_id))
            db.session.commit()
            return plain

    return make


@pytest.fixture
def api_as(client, make_user, token_for):
    """``api_as('front_desk')`` -> an Api client with a fresh user of that role."""

    def make(role: str = "admin", **kw) -> Api:
        uid = make_user(role, **kw)
        api = Api(client, token_for(uid))
        api.user_id = uid
        return api

    return make


@pytest.fixture
def admin_api(api_as):
    return api_as("admin")


@pytest.fixture
def anon_api(client):
    return Api(client, None)


def _clinician(name: str, email: str | None = None, modalities=("general",),
               hours=None) -> Clinician:
    c = Clinician(name=name, email=email or f"{name.lower().replace(' ', '.')}@clinic.example",
                  active=True)
    c.modality_rows = [ClinicianModality(modality=m) for m in modalities]
    hours = hours if hours is not None else [(d, time(9), time(18)) for d in range(7)]
    c.working_hours = [WorkingHours(weekday=d, start=s, end=e) for d, s, e in hours]
    db.session.add(c)
    db.session.commit()
    return c


@pytest.fixture
def make_clinician(app):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, **kw) -> int:
        with app.app_context():
            return _clinician(name or f"Dr Factory {next(counter)}", **kw).id

    return make


@pytest.fixture
def make_room(app):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, capacity: int = 1, site_id: int | None = None,
             active: bool = True, attributes=()) -> int:
        with app.app_context():
            if site_id is None:
                site = db.session.scalar(db.select(Site).order_by(Site.id).limit(1))
                if site is None:
                    site = Site(name="Main site")
                    db.session.add(site)
                    db.session.flush()
                site_id = site.id
            r = Room(name=name or f"Room {next(counter)}", site_id=site_id, capacity=capacity,
                     active=active, attributes=list(attributes))
            db.session.add(r)
            db.session.commit()
            return r.id

    return make


@pytest.fixture
def make_client(app):
    counter = iter(range(1, 100_000))

    def make(name: str | None = None, **kw) -> int:
        with app.app_context():
            c = Client(name=name or f"Client Number{next(counter)}", **kw)
            db.session.add(c)
            db.session.commit()
            return c.id

    return make
