"""Configuration: environment, instance/config.py and the start-up checks.

Each app here gets its own instance folder (``INSTANCE_PATH``) and a SQLite
file in it, so nothing of the checkout's own instance/ is read or written.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from practice import create_app
from practice.config import ENV_KEYS
from practice.errors import ConfigurationError
from practice.extensions import db


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """The settings under test must come from the test, not the shell."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def instance(tmp_path):
    path = tmp_path / "instance"
    path.mkdir()
    return path


def make(instance, **config):
    base = {"INSTANCE_PATH": str(instance), "TESTING": True,
            "DATABASE_URL": f"sqlite:///{instance / 'practice.sqlite3'}"}
    return create_app({**base, **config})


def test_unknown_time_zone_stops_start_up_naming_it(instance):
    with pytest.raises(ConfigurationError) as info:
        make(instance, PRACTICE_TIMEZONE="Mars/Olympus_Mons")
    assert "Mars/Olympus_Mons" in str(info.value)
    assert "IANA" in str(info.value)


def test_unknown_time_zone_from_the_environment_stops_start_up(instance, monkeypatch):
    monkeypatch.setenv("PRACTICE_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ConfigurationError, match="Europe/Atlantis"):
        make(instance)


@pytest.mark.parametrize("zone", ["", "europe/london", "../../etc/passwd", "UTC+1"])
def test_not_quite_zone_names_are_refused(instance, zone):
    with pytest.raises(ConfigurationError):
        make(instance, PRACTICE_TIMEZONE=zone)


def test_known_time_zone_is_kept(instance):
    app = make(instance, PRACTICE_TIMEZONE="America/New_York")
    assert app.config["PRACTICE_TIMEZONE"] == "America/New_York"


def test_production_without_secret_key_refuses_to_start(instance):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make(instance, PRACTICE_ENV="production")
    # and it wrote no key of its own to fall back on
    assert not (instance / "secret_key").exists()


def test_production_with_secret_key_starts_with_secure_cookies(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-key")
    monkeypatch.setenv("PRACTICE_BASE_URL", "https://practice.example")
    app = make(instance, PRACTICE_ENV="production")
    assert app.config["SECRET_KEY"] == "a-long-random-production-key"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_generates_one_key_and_keeps_it(instance):
    first = make(instance)
    second = make(instance)
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    assert second.config["SECRET_KEY"] == key  # every worker and restart shares it
    assert (instance / "secret_key").read_text().strip() == key
    assert first.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("given", [
    "postgresql://u:p@127.0.0.1:5432/practice",
    "postgres://u:p@127.0.0.1:5432/practice",
])
def test_plain_postgresql_url_uses_psycopg3(instance, given, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", given)
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    expected = "postgresql+psycopg://u:p@127.0.0.1:5432/practice"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"


def test_explicit_driver_is_left_alone(instance):
    url = "postgresql+psycopg://u:p@127.0.0.1:5432/practice"
    app = make(instance, DATABASE_URL=url)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_default_database_is_a_sqlite_file_in_instance(instance):
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'practice.sqlite3'}"


def test_instance_config_file_is_read(instance):
    (instance / "config.py").write_text(
        'PRACTICE_NAME = "Harbour Street Practice"\n'
        'PRACTICE_TIMEZONE = "America/New_York"\n'
        'SECRET_KEY = "from-the-instance-file"\n')
    app = make(instance)
    assert app.config["PRACTICE_NAME"] == "Harbour Street Practice"
    assert app.config["PRACTICE_TIMEZONE"] == "America/New_York"
    assert app.config["SECRET_KEY"] == "from-the-instance-file"


def test_environment_wins_over_instance_config(instance, monkeypatch):
    (instance / "config.py").write_text('PRACTICE_TIMEZONE = "America/New_York"\n')
    monkeypatch.setenv("PRACTICE_TIMEZONE", "Asia/Tokyo")
    assert make(instance).config["PRACTICE_TIMEZONE"] == "Asia/Tokyo"


def test_bad_zone_in_instance_config_stops_start_up(instance):
    (instance / "config.py").write_text('PRACTICE_TIMEZONE = "Pacific/Nowhere"\n')
    with pytest.raises(ConfigurationError, match="Pacific/Nowhere"):
        make(instance)


def test_instance_secret_key_satisfies_production(instance):
    (instance / "config.py").write_text('SECRET_KEY = "kept-in-the-instance"\n'
                                        'PRACTICE_BASE_URL = "https://practice.example"\n')
    app = make(instance, PRACTICE_ENV="production")
    assert app.config["SECRET_KEY"] == "kept-in-the-instance"


def test_unknown_plugin_stops_start_up_listing_available(instance):
    with pytest.raises(ConfigurationError) as info:
        make(instance, PRACTICE_PLUGINS="no-such-modality")
    assert "no-such-modality" in str(info.value)
    assert "available" in str(info.value)


def test_plugins_setting_is_split_on_commas(instance, monkeypatch):
    monkeypatch.setenv("PRACTICE_PLUGINS", " , ")
    assert make(instance).config["PRACTICE_PLUGINS"] == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(instance):
    app = make(instance)
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        db.engine.dispose()
    # WAL is a property of the file: another process opening it sees it too.
    raw = sqlite3.connect(instance / "practice.sqlite3")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
