"""The IPT plugin's settings: a practice changes them by configuration, and
nonsense stops start-up naming the key and its bounds."""
from __future__ import annotations

import pytest
from test_ipt_support import practice  # noqa: F401  (fixture)

from practice import create_app
from practice.errors import ConfigurationError


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt", "IPT_TERMINATION_SESSIONS": 4,
            "IPT_MAINTENANCE_MONTHS": "12", "IPT_MEASURE_EVERY": 3}


def test_termination_phase_follows_the_setting(practice):
    course = practice.book("ipt", session_count=12)
    assert [s["phase"] for s in course["sessions"]] == \
        ["initial"] * 3 + ["middle"] * 5 + ["termination"] * 4


def test_maintenance_length_follows_the_setting(practice):
    mods = {m["key"]: m for m in practice.desk.get("/api/modalities").json["items"]}
    assert (mods["ipt-m"]["min_sessions"], mods["ipt-m"]["max_sessions"]) == (6, 13)
    refused = practice.book("ipt-m", session_count=14, expect=422)
    assert refused["violations"][0]["rule"] == "ipt.session_count"
    assert practice.book("ipt-m")["planned_sessions"] == 13


def test_measure_cadence_follows_the_setting(practice):
    course = practice.book("ipt", session_count=12)
    r = practice.doctor.get(f"/api/ipt/courses/{course['id']}/measures")
    assert r.json["due_sessions"] == [1, 3, 6, 9, 12]


@pytest.mark.parametrize("key,value,words", [
    ("IPT_TERMINATION_SESSIONS", 5, "2-4"),
    ("IPT_TERMINATION_SESSIONS", 1, "2-4"),
    ("IPT_MAINTENANCE_MONTHS", 48, "6-36"),
    ("IPT_MAINTENANCE_MONTHS", "two years", "whole number"),
    ("IPT_OVERDUE_DAYS", 20, "29-120"),
    ("IPT_OVERDUE_HIGH_DAYS", 30, "greater than IPT_OVERDUE_DAYS"),
    ("IPT_MEASURE_EVERY", True, "whole number"),
])
def test_bad_settings_stop_start_up(app_config, key, value, words):
    with pytest.raises(ConfigurationError) as err:
        create_app({**app_config, key: value})
    assert key in str(err.value) and words in str(err.value)


def test_settings_come_from_the_environment_too(app_config, monkeypatch):
    monkeypatch.setenv("IPT_OVERDUE_DAYS", "40")
    monkeypatch.setenv("IPT_OVERDUE_HIGH_DAYS", "60")
    app = create_app({k: v for k, v in app_config.items() if not k.startswith("IPT_")})
    assert (app.extensions["ipt"].overdue_days, app.extensions["ipt"].overdue_high_days) == \
        (40, 60)


def test_settings_are_not_checked_when_the_plugin_is_off(app_config):
    app = create_app({**app_config, "PRACTICE_PLUGINS": "", "IPT_TERMINATION_SESSIONS": 9})
    assert "ipt" not in app.extensions
