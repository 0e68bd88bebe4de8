"""One test per hook in ``practice.hookspecs`` (``test_hook_<name>``): a probe
plugin registered through ``PRACTICE_EXTRA_PLUGINS`` implements them, and
each test drives the core the way a user would (HTTP, CLI) to show the hook
is called with what its docstring promises and its answer is applied."""
from __future__ import annotations

from datetime import timedelta

import click
import pytest
from flask import Blueprint, jsonify
from test_ipt_support import monday_weeks_ago

from practice import create_app
from practice.contributions import FlagSpec, IntakeField, Modality, violation, warning
from practice.errors import ConfigurationError
from practice.extensions import db, migrate
from practice.hookspecs import hookimpl
from practice.models import Course
from practice.plugin_manager import hooks, migration_dirs

PROBE = Modality(key="probe", label="Probe therapy", min_sessions=2, max_sessions=6,
                 default_sessions=4, allowed_intervals=(1, 2), min_duration=30,
                 max_duration=60, default_duration=45, max_extended_sessions=8)

probe_bp = Blueprint("probe", __name__, url_prefix="/probe")


@probe_bp.get("/ping")
def ping():
    return jsonify(pong=True)


@click.command("probe-hello")
def probe_hello():
    """Say hello from the probe plugin."""
    click.echo("hello from probe")


class Probe:
    """Implements every hook for the ``probe`` modality and records calls."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def practice_configure(self, app):
        self.calls.append(("configure", app.import_name))
        if app.config.get("PROBE_FAIL"):
            raise ConfigurationError("PROBE_FAIL is set: the probe refuses to start.")

    @hookimpl
    def practice_modalities(self):
        return [PROBE]

    @hookimpl
    def practice_blueprints(self):
        return [probe_bp]

    @hookimpl
    def practice_cli_commands(self):
        return [probe_hello]

    @hookimpl
    def practice_check_booking(self, draft, modality):
        if modality.key != "probe":
            return []
        self.calls.append(("booking", draft.session_count, len(draft.sessions)))
        out = [warning("probe.note", "Probe bookings are experimental.")]
        if draft.first_date.weekday() == 4:
            out.append(violation("probe.no_fridays", "Probe never starts on a Friday.",
                                 field="first_date"))
        return out

    @hookimpl
    def practice_check_extension(self, course, modality, added, new_total, reason):
        self.calls.append(("extension", course.id, modality.key, added, new_total, reason))
        if modality.key == "probe" and added > 1:
            return [violation("probe.one_at_a_time", "Extend a probe course one session "
                              "at a time.", field="sessions")]
        return []

    @hookimpl
    def practice_check_reschedule(self, course, session, changes, scope):
        if course.modality != "probe":
            return []
        self.calls.append(("reschedule", session.number, [c["number"] for c in changes], scope))
        if scope == "following":
            return [violation("probe.one_by_one", "Move probe sessions one by one.")]
        return []

    @hookimpl
    def practice_check_cancellation(self, course, session, by, reason):
        if course.modality == "probe" and not reason:
            return [violation("probe.reason_required", "Say why.", field="reason")]
        return []

    @hookimpl
    def practice_check_attendance(self, course, session, status):
        if course.modality == "probe" and status == "no_show" and session.number == 1:
            return [violation("probe.first_is_kept", "The first probe session is never "
                              "a no-show: call the client and reschedule it.")]
        return []

    @hookimpl
    def practice_make_up_policy(self, course, session, event, requested):
        if course.modality != "probe":
            return None
        self.calls.append(("make_up", session.number, event, requested))
        return event == "no_show"

    @hookimpl
    def practice_close_status(self, course, attended, outcome):
        if course.modality != "probe":
            return None
        return "completed" if outcome == "goal met" else "ended_early"

    @hookimpl
    def practice_session_phase(self, course, number, total):
        if course.modality != "probe":
            return None
        return "opening" if number == 1 else ("closing" if number == total else "work")

    @hookimpl
    def practice_course_flags(self, course, today):
        if course.modality != "probe" or course.status != "active":
            return []
        if any(s.status == "attended" for s in course.sessions) or course.first_date >= today:
            return []
        return [FlagSpec("probe.not_started", "warning", "The probe course has not started.",
                         due_date=course.first_date)]

    @hookimpl
    def practice_intake_fields(self, modality):
        if modality != "probe":
            return None
        return [IntakeField("goal", "Goal", "text", required=True)]

    @hookimpl
    def practice_validate_intake(self, modality, data):
        if modality != "probe":
            return None
        goal = data.get("goal") if isinstance(data, dict) else None
        if not isinstance(goal, str) or not goal.strip():
            return {}, [violation("probe.goal", "A goal is required.", field="goal")]
        return {"goal": goal.strip()}, []


@pytest.fixture
def probe():
    return Probe()


@pytest.fixture
def app_config(app_config, probe):
    return {**app_config, "PRACTICE_PLUGINS": "ipt", "PRACTICE_EXTRA_PLUGINS": {"probe": probe}}


@pytest.fixture
def setup(make_clinician, make_room, make_client, api_as):
    cid = make_clinician(modalities=("general", "probe", "ipt"))
    return {"clinician_id": cid, "room_id": make_room(), "client_ids": [make_client()],
            "desk": api_as("front_desk"), "doctor": api_as("clinician", clinician_id=cid)}


def book(setup, expect=201, **body):
    body = {"client_ids": setup["client_ids"], "clinician_id": setup["clinician_id"],
            "room_id": setup["room_id"], "modality": "probe", "start_time": "10:00",
            "first_date": monday_weeks_ago(10).isoformat(), **body}
    r = setup["desk"].post("/api/courses", json=body)
    assert r.status_code == expect, r.json
    return r.json


# -- set-up -----------------------------------------------------------------------
def test_hook_practice_configure(app_config, probe):
    create_app(app_config)
    assert probe.calls == [("configure", "practice")]
    with pytest.raises(ConfigurationError, match="PROBE_FAIL"):
        create_app({**app_config, "PROBE_FAIL": True})


def test_hook_practice_modalities(setup):
    items = {m["key"]: m for m in setup["desk"].get("/api/modalities").json["items"]}
    assert {"general", "ipt", "ipt-m", "probe"} <= set(items)
    assert items["probe"]["plugin"] == "probe" and items["ipt"]["plugin"] == "ipt"
    assert (items["probe"]["min_sessions"], items["probe"]["max_sessions"]) == (2, 6)
    assert items["general"]["plugin"] == "core"
    refused = book(setup, expect=422, session_count=7)
    assert [(v["rule"], v["plugin"]) for v in refused["violations"]] == \
        [("probe.session_count", "probe")]


def test_hook_practice_modalities_clash_names_both_plugins(app_config):
    class Copycat:
        @hookimpl
        def practice_modalities(self):
            return [Modality(key="ipt", label="Not IPT")]

    with pytest.raises(ConfigurationError, match="'ipt'.*'copycat'|'copycat'.*'ipt'"):
        create_app({**app_config, "PRACTICE_EXTRA_PLUGINS": {"copycat": Copycat()}})


def test_hook_practice_blueprints(client):
    assert client.get("/probe/ping").json == {"pong": True}


def test_hook_practice_readonly_blueprints(app, app_config, client):
    # Enabled: the full blueprint, never the read-only one.
    assert "ipt" in app.blueprints and "ipt_readonly" not in app.blueprints
    off = create_app({**app_config, "PRACTICE_PLUGINS": "", "PRACTICE_EXTRA_PLUGINS": {}})
    try:
        assert "ipt_readonly" in off.blueprints and "ipt" not in off.blueprints
        spec = off.test_client().get("/api/openapi.json").json
        assert set(spec["paths"]["/api/ipt/courses/{course_id}/measures"]) - {"parameters"} \
            == {"get"}
        assert off.test_client().post("/api/ipt/courses/1/measures", json={}).status_code == 405
    finally:
        with off.app_context():
            db.engine.dispose()


def test_hook_practice_cli_commands(runner):
    assert runner.invoke(args=["probe-hello"]).output == "hello from probe\n"
    assert "ipt" in runner.invoke(args=["--help"]).output


def test_hook_practice_migration_dirs(app, app_config):
    from pathlib import Path

    import plugins.ipt

    ipt_dir = str(Path(plugins.ipt.__file__).parent / "migrations" / "versions")
    assert migration_dirs(app) == [ipt_dir]
    off = create_app({**app_config, "PRACTICE_PLUGINS": "", "PRACTICE_EXTRA_PLUGINS": {}})
    with off.app_context():
        assert migration_dirs(off) == [ipt_dir]  # disabled, its tables still migrate
        # What ``flask db ...`` gives Alembic: the core's versions, then the plugins'.
        config = migrate.get_config()
        assert config.get_main_option("version_locations").split(":")[1:] == [ipt_dir]
        db.engine.dispose()


# -- checks -----------------------------------------------------------------------
def test_hook_practice_check_booking(setup, probe):
    ok = book(setup, session_count=3)
    assert {"rule": "probe.note", "plugin": "probe",
            "message": "Probe bookings are experimental."} in ok["warnings"]
    assert ("booking", 3, 3) in probe.calls  # the draft carries the expanded sessions
    friday = monday_weeks_ago(8) + timedelta(days=4)
    refused = book(setup, expect=422, session_count=3, first_date=friday.isoformat())
    assert refused["violations"] == [{"rule": "probe.no_fridays", "plugin": "probe",
                                      "message": "Probe never starts on a Friday.",
                                      "field": "first_date"}]
    preview = setup["desk"].post("/api/courses", json={
        "client_ids": setup["client_ids"], "clinician_id": setup["clinician_id"],
        "room_id": setup["room_id"], "modality": "probe", "start_time": "12:00",
        "first_date": friday.isoformat(), "session_count": 2, "dry_run": True})
    assert preview.status_code == 200
    assert preview.json["violations"][0]["rule"] == "probe.no_fridays"


def test_hook_practice_check_extension(setup, probe):
    c = book(setup, session_count=4)["id"]
    url = f"/api/courses/{c}/extend"
    refused = setup["doctor"].post(url, json={"sessions": 2, "reason": "more"})
    assert refused.status_code == 422
    assert refused.json["violations"][0]["rule"] == "probe.one_at_a_time"
    assert ("extension", c, "probe", 2, 6, "more") in probe.calls
    assert setup["doctor"].post(url, json={"sessions": 1}).status_code == 200


def test_hook_practice_check_reschedule(setup, probe):
    c = book(setup, session_count=4)["id"]
    url = f"/api/courses/{c}/sessions/3/reschedule"
    moved = (monday_weeks_ago(-30) + timedelta(days=1)).isoformat()
    refused = setup["desk"].post(url, json={"date": moved, "start_time": "11:00",
                                            "scope": "following"})
    assert refused.status_code == 422
    assert refused.json["violations"][0]["rule"] == "probe.one_by_one"
    assert ("reschedule", 3, [3, 4], "following") in probe.calls
    ok = setup["desk"].post(url, json={"date": moved, "start_time": "11:00"})
    assert ok.status_code == 200, ok.json


def test_hook_practice_check_cancellation(setup):
    c = book(setup, session_count=4, first_date=monday_weeks_ago(-5).isoformat())["id"]
    url = f"/api/courses/{c}/sessions/2/cancel"
    refused = setup["desk"].post(url, json={"by": "client"})
    assert refused.status_code == 422
    assert refused.json["violations"][0] == {"rule": "probe.reason_required", "plugin": "probe",
                                             "message": "Say why.", "field": "reason"}
    assert setup["desk"].post(url, json={"by": "client", "reason": "ill"}).status_code == 200


def test_hook_practice_check_attendance(setup):
    c = book(setup, session_count=4)["id"]
    r = setup["doctor"].post(f"/api/courses/{c}/sessions/1/attendance",
                             json={"status": "no_show"})
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "probe.first_is_kept"
    assert setup["doctor"].post(f"/api/courses/{c}/sessions/1/attendance",
                                json={"status": "attended"}).status_code == 200


# -- course rules -----------------------------------------------------------------
def test_hook_practice_make_up_policy(setup, probe):
    c = book(setup, session_count=4)["id"]
    # The probe's answer wins over the core's default (which follows the request).
    r = setup["desk"].post(f"/api/courses/{c}/sessions/2/cancel",
                           json={"by": "client", "reason": "ill", "make_up": True})
    assert r.json["make_up"] is None
    assert ("make_up", 2, "cancel", True) in probe.calls
    r = setup["doctor"].post(f"/api/courses/{c}/sessions/3/attendance",
                             json={"status": "no_show"})
    assert r.json["make_up"]["number"] == 5
    # Other modalities keep the core's default: a make-up only when asked for.
    g = book(setup, modality="general", session_count=3, duration_minutes=50,
             start_time="14:00")["id"]
    r = setup["desk"].post(f"/api/courses/{g}/sessions/2/cancel",
                           json={"by": "client", "make_up": True})
    assert r.json["make_up"]["number"] == 4


def test_hook_practice_close_status(setup):
    a = book(setup, session_count=4)["id"]
    b = book(setup, session_count=4, start_time="12:00")["id"]
    assert setup["doctor"].post(f"/api/courses/{a}/close", json={"outcome": "goal met"}
                                ).json["status"] == "completed"
    assert setup["doctor"].post(f"/api/courses/{b}/close", json={"outcome": "moved"}
                                ).json["status"] == "ended_early"


def test_hook_practice_session_phase(setup):
    course = book(setup, session_count=4)
    assert [s["phase"] for s in course["sessions"]] == ["opening", "work", "work", "closing"]
    r = setup["desk"].post(f"/api/courses/{course['id']}/sessions/1/cancel",
                           json={"by": "practice", "reason": "closure"})
    # ``number`` is the place among non-cancelled sessions: the old 2nd opens now.
    phases = {s["number"]: s["phase"] for s in r.json["sessions"]}
    assert phases[1] is None and phases[2] == "opening"


def test_hook_practice_course_flags(app, setup):
    first = monday_weeks_ago(2)
    c = book(setup, session_count=4, first_date=first.isoformat())["id"]
    app.config["PRACTICE_TODAY"] = first + timedelta(days=1)
    listed = setup["doctor"].get(f"/api/flags?course_id={c}").json["items"]
    assert [(f["code"], f["plugin"], f["due_date"]) for f in listed] == \
        [("probe.not_started", "probe", first.isoformat())]
    setup["doctor"].post(f"/api/courses/{c}/sessions/1/attendance", json={"status": "attended"})
    assert setup["doctor"].get(f"/api/flags?course_id={c}").json["items"] == []


# -- intake -----------------------------------------------------------------------
def test_hook_practice_intake_fields(setup):
    items = {m["key"]: m for m in setup["desk"].get("/api/modalities").json["items"]}
    assert [f["name"] for f in items["probe"]["intake_fields"]] == ["goal"]
    assert items["general"]["intake_fields"] == []
    c = book(setup, session_count=2)["id"]
    assert setup["doctor"].get(f"/api/courses/{c}/intake").json["fields"][0]["required"] is True


def test_hook_practice_validate_intake(setup):
    c = book(setup, session_count=2)["id"]
    url = f"/api/courses/{c}/intake"
    bad = setup["doctor"].put(url, json={"goal": "  "})
    assert bad.status_code == 422
    assert bad.json["violations"] == [{"rule": "probe.goal", "plugin": "probe",
                                       "message": "A goal is required.", "field": "goal"}]
    ok = setup["doctor"].put(url, json={"goal": " sleep better "})
    assert ok.json["data"] == {"goal": "sleep better"}


# -- feeds ------------------------------------------------------------------------
def test_hook_practice_feed_event(app, setup, make_client):
    """IPT's implementation, given a synthetic event as the feed builder makes it."""
    c = setup["desk"].post("/api/courses", json={
        "client_ids": [make_client()], "clinician_id": setup["clinician_id"],
        "room_id": setup["room_id"], "modality": "ipt", "session_count": 16,
        "first_date": monday_weeks_ago(-3).isoformat(), "start_time": "16:00",
        "intake": {"primary_problem_area": "grief"}})
    assert c.status_code == 201, c.json
    setup["desk"].post(f"/api/courses/{c.json['id']}/sessions/2/cancel",
                       json={"by": "client", "reason": "ill"})
    event = {"SUMMARY": "Session: J.D.", "DESCRIPTION": "", "STATUS": "CONFIRMED"}
    with app.app_context():
        course = db.session.get(Course, c.json["id"])
        s5 = next(s for s in course.sessions if s.number == 5)
        call = hooks(app).practice_feed_event
        full = call(event=dict(event), session=s5, course=course, privacy="full",
                    phase="middle")
        assert {"SUMMARY": "Session: J.D. \u2013 session 4 of 16 (middle)"} in full
        assert not any("grief" in str(r) or "IPT" in str(r) for r in full)
        for privacy in ("initials", "busy"):
            assert all(r is None for r in call(event=dict(event), session=s5, course=course,
                                               privacy=privacy, phase="middle"))
        cancelled = next(s for s in course.sessions if s.number == 2)
        assert all(r is None for r in call(event=dict(event), session=cancelled,
                                           course=course, privacy="full", phase=None))
