"""Disabling the IPT plugin loses nothing: on a populated database an app
without it still shows IPT courses, intake and measures (modality "not
enabled"), refuses new IPT bookings as an unknown modality, and an app with
it again restores the rules and the flags."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import Api
from test_ipt_support import phq9, monday_weeks_ago, practice  # noqa: F401  (fixture)

from practice import create_app
from practice.extensions import db

INTAKE = {"primary_problem_area": "grief", "prior_episodes": 1,
          "interpersonal_inventory": [{"person": "Sister", "relationship": "sibling",
                                       "closeness": 5}]}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


def same_db_app(app_config, plugins: str):
    return create_app({**app_config, "PRACTICE_PLUGINS": plugins})


def as_user(app, api: Api) -> Api:
    other = Api(app.test_client(), api.token)
    other.user_id = api.user_id
    return other


def test_disable_keeps_data_readable_and_reenable_restores_rules_and_flags(app_config,
                                                                            practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=16, first_date=first, intake=INTAKE)["id"]
    practice.today(first + timedelta(weeks=13))
    practice.attend(c, *range(1, 13))
    r = practice.doctor.post(f"/api/ipt/courses/{c}/measures",
                             json={"session_number": 12, "items": phq9(14, 1)})
    assert r.status_code == 201, r.json
    before = practice.flags(c)
    assert {"ipt.termination_due", "ipt.safety_review"} <= set(before)

    off = same_db_app(app_config, "")
    off.config["PRACTICE_TODAY"] = practice.app.config["PRACTICE_TODAY"]
    try:
        doctor, desk = as_user(off, practice.doctor), as_user(off, practice.desk)
        course = doctor.get(f"/api/courses/{c}").json
        assert (course["modality"], course["modality_enabled"]) == ("ipt", False)
        assert len(course["sessions"]) == 16 and course["progress"]["attended"] == 12
        assert {f["code"] for f in course["flags"]} == set(before)   # kept as they were

        intake = doctor.get(f"/api/courses/{c}/intake").json
        assert intake["data"] == {**INTAKE, "interpersonal_inventory": [
            {"person": "Sister", "relationship": "sibling", "closeness": 5, "notes": ""}]}
        assert (intake["modality_enabled"], intake["fields"]) == (False, [])
        refused = doctor.put(f"/api/courses/{c}/intake", json={"primary_problem_area": "x"})
        assert refused.status_code == 422
        assert refused.json["violations"][0]["rule"] == "intake.unsupported"

        measures = doctor.get(f"/api/ipt/courses/{c}/measures")
        assert measures.status_code == 200 and measures.json["total"] == 1
        assert doctor.post(f"/api/ipt/courses/{c}/measures", json={
            "session_number": 13, "items": phq9(3, 0)}).status_code == 405
        assert desk.get(f"/api/ipt/courses/{c}/measures").status_code == 403

        new = desk.post("/api/courses", json={
            "client_ids": [practice.make_client()], "clinician_id": practice.clinician_id,
            "room_id": practice.room_id, "modality": "ipt", "session_count": 16,
            "first_date": monday_weeks_ago(-60).isoformat(), "start_time": "15:00"})
        assert new.status_code == 422
        assert new.json["violations"][0]["rule"] == "modality.unknown"
        keys = [m["key"] for m in desk.get("/api/modalities").json["items"]]
        assert keys == ["general"]
        # Changes made meanwhile leave the IPT flags alone.
        assert doctor.post(f"/api/courses/{c}/sessions/13/attendance",
                           json={"status": "attended"}).status_code == 200
        listed = doctor.get(f"/api/flags?course_id={c}").json["items"]
        assert {f["code"] for f in listed} == set(before)
    finally:
        with off.app_context():
            db.engine.dispose()

    on = same_db_app(app_config, "ipt")
    on.config["PRACTICE_TODAY"] = first + timedelta(weeks=13)
    try:
        doctor, desk = as_user(on, practice.doctor), as_user(on, practice.desk)
        course = doctor.get(f"/api/courses/{c}").json
        assert course["modality_enabled"] is True
        assert course["sessions"][13]["phase"] == "termination"
        flags = {f["code"]: f for f in doctor.get(f"/api/flags?course_id={c}").json["items"]}
        assert flags["ipt.termination_due"]["message"].startswith("3 sessions remain")
        assert flags["ipt.safety_review"]["id"] == before["ipt.safety_review"]["id"]
        assert doctor.get(f"/api/courses/{c}/intake").json["fields"] != []
        refused = desk.post("/api/courses", json={
            "client_ids": [practice.make_client()], "clinician_id": practice.clinician_id,
            "room_id": practice.room_id, "modality": "ipt", "session_count": 17,
            "first_date": monday_weeks_ago(-60).isoformat(), "start_time": "15:00"})
        assert refused.json["violations"][0]["rule"] == "ipt.session_count"
    finally:
        with on.app_context():
            db.engine.dispose()
