"""A third party adds a modality, a veto and a flag without touching the
core: the small MBCT plugin below is not shipped, only registered for the
app under test (``PRACTICE_EXTRA_PLUGINS``), exactly as an installed one
would be through its entry point."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_ipt_support import monday_weeks_ago

from practice.contributions import FlagSpec, Modality, violation
from practice.hookspecs import hookimpl


class Mbct:
    """Mindfulness-based cognitive therapy: 8 weekly group sessions."""

    __version__ = "0.3.0"

    @hookimpl
    def practice_modalities(self):
        return [Modality(key="mbct", label="MBCT", min_sessions=8, max_sessions=8,
                         default_sessions=8, allowed_intervals=(1,), min_duration=120,
                         max_duration=150, default_duration=120, min_clients=2,
                         max_clients=15)]

    @hookimpl
    def practice_check_booking(self, draft, modality):
        if modality.key == "mbct" and draft.first_date.weekday() >= 5:
            return [violation("mbct.weekday", "MBCT groups start on a weekday.",
                              field="first_date")]
        return []

    @hookimpl
    def practice_course_flags(self, course, today: date):
        if course.modality != "mbct" or course.status != "active":
            return []
        if today < course.first_date <= today + timedelta(days=7):
            return [FlagSpec("mbct.recordings", "info", "Send the home-practice recordings "
                             "before the first session.", due_date=course.first_date)]
        return []


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_EXTRA_PLUGINS": {"mbct": Mbct()}}


@pytest.fixture
def group(make_clinician, make_room, make_client, api_as):
    return {"clinician_id": make_clinician(modalities=("general", "mbct")),
            "room_id": make_room(capacity=12),
            "client_ids": [make_client() for _ in range(3)], "desk": api_as("front_desk")}


def book(group, first: date, **extra):
    return group["desk"].post("/api/courses", json={
        "client_ids": group["client_ids"], "clinician_id": group["clinician_id"],
        "room_id": group["room_id"], "modality": "mbct", "first_date": first.isoformat(),
        "start_time": "18:00", **extra})


def test_third_party_modality_is_offered(group, runner):
    mods = {m["key"]: m for m in group["desk"].get("/api/modalities").json["items"]}
    assert mods["mbct"]["plugin"] == "mbct" and mods["mbct"]["default_duration"] == 120
    out = runner.invoke(args=["practice", "plugins"]).output
    assert "mbct 0.3.0 (registered in code): enabled" in out


def test_third_party_bounds_and_veto_are_enforced(group):
    monday = monday_weeks_ago(-4)
    r = book(group, monday, session_count=6)
    assert [(v["rule"], v["plugin"]) for v in r.json["violations"]] == \
        [("mbct.session_count", "mbct")]
    r = book(group, monday + timedelta(days=5))
    assert r.status_code == 422
    assert r.json["violations"] == [{"rule": "mbct.weekday", "plugin": "mbct",
                                     "message": "MBCT groups start on a weekday.",
                                     "field": "first_date"}]


def test_third_party_flag_is_raised_and_closed(app, group):
    first = monday_weeks_ago(-2)
    app.config["PRACTICE_TODAY"] = first - timedelta(days=10)
    r = book(group, first)
    assert r.status_code == 201, r.json
    assert r.json["flags"] == []
    app.config["PRACTICE_TODAY"] = first - timedelta(days=3)
    items = group["desk"].get("/api/flags").json["items"]
    assert [(f["code"], f["plugin"], f["due_date"]) for f in items] == \
        [("mbct.recordings", "mbct", first.isoformat())]
    app.config["PRACTICE_TODAY"] = first
    assert group["desk"].get("/api/flags").json["items"] == []
