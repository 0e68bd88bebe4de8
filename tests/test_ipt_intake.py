"""The IPT intake over ``GET``/``PUT /api/courses/<id>/intake``: every field
rule of SPEC 8, one violation per failing field, clinical access, audit."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_ipt_support import practice  # noqa: F401  (fixture)

from practice.extensions import db
from practice.models import AuditEntry

FULL = {
    "primary_problem_area": "role_dispute",
    "secondary_problem_area": "grief",
    "dispute_stage": "impasse",
    "interpersonal_inventory": [
        {"person": "Partner", "relationship": "spouse", "closeness": 4, "notes": "tense"},
        {"person": "Mother", "relationship": "parent", "closeness": 2},
    ],
    "formulation": "Depression in the context of a marital impasse after a loss.",
    "formulation_accepted_on": "2024-03-18",
    "prior_episodes": 2,
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


@pytest.fixture
def course_id(practice):
    return practice.book("ipt", session_count=12)["id"]


def put(practice, course_id, body, api=None):
    return (api or practice.doctor).put(f"/api/courses/{course_id}/intake", json=body)


def test_full_intake_round_trips(practice, course_id):
    r = put(practice, course_id, FULL)
    assert r.status_code == 200, r.json
    got = practice.doctor.get(f"/api/courses/{course_id}/intake").json
    assert got["modality"] == "ipt" and got["modality_enabled"] is True
    assert got["data"]["interpersonal_inventory"][1] == \
        {"person": "Mother", "relationship": "parent", "closeness": 2, "notes": ""}
    assert {k: v for k, v in got["data"].items() if k != "interpersonal_inventory"} == \
        {k: v for k, v in FULL.items() if k != "interpersonal_inventory"}
    assert [f["name"] for f in got["fields"]][:3] == \
        ["primary_problem_area", "secondary_problem_area", "dispute_stage"]


@pytest.mark.parametrize("body,field,rule", [
    ({"primary_problem_area": "loneliness"}, "primary_problem_area", "ipt.intake.choice"),
    ({"primary_problem_area": "grief", "secondary_problem_area": "grief"},
     "secondary_problem_area", "ipt.intake.secondary_same_as_primary"),
    ({"primary_problem_area": "interpersonal_deficits", "secondary_problem_area": "grief"},
     "secondary_problem_area", "ipt.intake.secondary_with_deficits"),
    ({"secondary_problem_area": "grief"}, "secondary_problem_area",
     "ipt.intake.secondary_without_primary"),
    ({"primary_problem_area": "role_dispute"}, "dispute_stage",
     "ipt.intake.dispute_stage_required"),
    ({"primary_problem_area": "grief", "secondary_problem_area": "role_dispute"},
     "dispute_stage", "ipt.intake.dispute_stage_required"),
    ({"primary_problem_area": "grief", "dispute_stage": "impasse"}, "dispute_stage",
     "ipt.intake.dispute_stage_not_allowed"),
    ({"primary_problem_area": "role_dispute", "dispute_stage": "war"}, "dispute_stage",
     "ipt.intake.choice"),
    ({"interpersonal_inventory": {"person": "x"}}, "interpersonal_inventory",
     "ipt.intake.inventory"),
    ({"interpersonal_inventory": [{"person": "A", "relationship": "friend", "closeness": 6}]},
     "interpersonal_inventory[0].closeness", "ipt.intake.inventory"),
    ({"interpersonal_inventory": [{"person": " ", "relationship": "friend", "closeness": 3}]},
     "interpersonal_inventory[0].person", "ipt.intake.inventory"),
    ({"interpersonal_inventory": [{"person": "A", "relationship": "friend", "closeness": True}]},
     "interpersonal_inventory[0].closeness", "ipt.intake.inventory"),
    ({"formulation": 42}, "formulation", "ipt.intake.formulation"),
    ({"formulation_accepted_on": "2030-02-30", "formulation": "x"},
     "formulation_accepted_on", "ipt.intake.date"),
    ({"formulation_accepted_on": "2024-02-03"}, "formulation_accepted_on",
     "ipt.intake.accepted_without_formulation"),
    # A clinical date is never in the future, nor before 1900 (SPEC section 4).
    ({"formulation_accepted_on": "9999-12-31", "formulation": "x"},
     "formulation_accepted_on", "ipt.intake.date"),
    ({"formulation_accepted_on": (date.today() + timedelta(days=2)).isoformat(),
      "formulation": "x"}, "formulation_accepted_on", "ipt.intake.date"),
    ({"formulation_accepted_on": "1899-12-31", "formulation": "x"},
     "formulation_accepted_on", "ipt.intake.date"),
    ({"prior_episodes": -1}, "prior_episodes", "ipt.intake.prior_episodes"),
    ({"prior_episodes": 1.5}, "prior_episodes", "ipt.intake.prior_episodes"),
    ({"diagnosis": "F32"}, "diagnosis", "ipt.intake.unknown_field"),
])
def test_each_field_rule(practice, course_id, body, field, rule):
    r = put(practice, course_id, body)
    assert r.status_code == 422, r.json
    assert [(v["field"], v["rule"], v["plugin"]) for v in r.json["violations"]] == \
        [(field, rule, "ipt")]


def test_one_violation_per_failing_field_and_nothing_written(practice, course_id):
    assert put(practice, course_id, {"primary_problem_area": "grief"}).status_code == 200
    r = put(practice, course_id, {"primary_problem_area": "role_dispute",
                                  "secondary_problem_area": "role_dispute",
                                  "prior_episodes": "two", "formulation": ["no"]})
    assert r.status_code == 422
    fields = [v["field"] for v in r.json["violations"]]
    assert sorted(fields) == ["dispute_stage", "formulation", "prior_episodes",
                              "secondary_problem_area"]
    assert all(v["plugin"] == "ipt" for v in r.json["violations"])
    got = practice.doctor.get(f"/api/courses/{course_id}/intake").json["data"]
    assert got == {"primary_problem_area": "grief"}


def test_front_desk_gets_403_and_another_clinician_404(practice, course_id):
    url = f"/api/courses/{course_id}/intake"
    assert practice.desk.get(url).status_code == 403
    assert put(practice, course_id, FULL, practice.desk).status_code == 403
    assert practice.other_doctor.get(url).status_code == 404
    assert put(practice, course_id, FULL, practice.other_doctor).status_code == 404
    assert practice.admin.get(url).status_code == 200
    assert practice.doctor.get("/api/courses/999999/intake").status_code == 404


def test_every_read_and_write_is_audited_without_values(app, practice, course_id):
    put(practice, course_id, FULL)
    practice.admin.get(f"/api/courses/{course_id}/intake")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type == "intake").order_by(AuditEntry.id)).all()
        assert [(r.action, r.object_id) for r in rows] == [("update", course_id),
                                                            ("view", course_id)]
        assert rows[0].user_id == practice.doctor.user_id
        assert rows[1].user_id == practice.admin.user_id
        assert "primary_problem_area" in rows[0].details["fields"]
        assert "impasse" not in str(rows[0].details) and "Partner" not in str(rows[1].details)


def test_booking_validates_an_intake_given_with_it(practice):
    bad = practice.book("ipt", session_count=12, expect=422,
                        intake={"primary_problem_area": "role_dispute"})
    assert bad["violations"][0]["rule"] == "ipt.intake.dispute_stage_required"
    ok = practice.book("ipt", session_count=12, intake={"primary_problem_area": "grief"})
    assert practice.doctor.get(f"/api/courses/{ok['id']}/intake").json["data"] == \
        {"primary_problem_area": "grief"}


def test_general_courses_have_no_intake_form(practice):
    c = practice.book("general", session_count=3, duration_minutes=50)["id"]
    got = practice.doctor.get(f"/api/courses/{c}/intake").json
    assert (got["fields"], got["data"]) == ([], {})
    r = put(practice, c, {"notes": "x"})
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "intake.unsupported"


NAMES = ["primary_problem_area", "secondary_problem_area", "dispute_stage",
         "interpersonal_inventory", "formulation", "formulation_accepted_on", "prior_episodes",
         "person", "relationship", "closeness", "notes"]


def test_any_json_intake_is_stored_or_refused_field_by_field(practice, course_id):
    """Whatever JSON arrives: 200, or 422 with at most one violation per field."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
               | st.text(max_size=8) | st.sampled_from(
                   ["grief", "role_dispute", "interpersonal_deficits", "impasse",
                    "2030-01-01", "2030-1-1"]))
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(NAMES) | st.text(max_size=4), inner, max_size=4), max_leaves=10)

    @given(body=st.dictionaries(st.sampled_from(NAMES), values, max_size=7))
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    def run(body):
        r = put(practice, course_id, body)
        assert r.status_code in (200, 422), (body, r.json)
        if r.status_code == 422:
            fields = [v["field"] for v in r.json["violations"]]
            # The plugin's rules, or the core's guard against NUL characters in text.
            assert len(fields) == len(set(fields)) and all(
                v["plugin"] == "ipt" or v["rule"] == "schema" for v in r.json["violations"])

    run()
