"""PHQ-9 measures on ``/api/ipt/courses/<id>/measures``: validation, one per
session, clinical access, audit, and the OpenAPI document."""
from __future__ import annotations

import pytest
from test_ipt_support import phq9, practice  # noqa: F401  (fixture)

from practice.extensions import db
from practice.models import AuditEntry


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


@pytest.fixture
def course_id(practice):
    return practice.book("ipt", session_count=12)["id"]


def post(practice, course_id, api=None, **body):
    return (api or practice.doctor).post(f"/api/ipt/courses/{course_id}/measures", json=body)


def test_record_and_list(practice, course_id):
    r = post(practice, course_id, session_number=1, items=phq9(19, 0))
    assert r.status_code == 201, r.json
    assert r.json["instrument"] == "phq9" and r.json["recorded_by_user_id"] == \
        practice.doctor.user_id
    post(practice, course_id, session_number=4, items=phq9(11, 0))
    got = practice.admin.get(f"/api/ipt/courses/{course_id}/measures").json
    assert [(m["session_number"], m["total"], m["band"]) for m in got["items"]] == \
        [(1, 19, "moderately severe"), (4, 11, "moderate")]
    assert got["total"] == 2 and got["due_sessions"] == [1, 4, 8, 12]


@pytest.mark.parametrize("body,field", [
    ({"session_number": 1, "items": [3] * 8 + [4]}, "items"),
    ({"session_number": 1, "items": [0] * 8 + [-1]}, "items"),
    ({"session_number": 1, "items": [3] * 8}, "items"),
    ({"session_number": 1, "items": [3] * 10}, "items"),
    ({"session_number": 1, "items": ["1"] * 9}, "items"),
    ({"session_number": 1, "items": [1.5] * 9}, "items"),
    ({"session_number": 1, "phq9_total": 27, "phq9_item9": 0}, "items"),
    ({"items": phq9(10, 0)}, "session_number"),
])
def test_scores_out_of_range_are_refused(practice, course_id, body, field):
    r = post(practice, course_id, **body)
    assert r.status_code == 422, r.json
    assert any(v["field"].startswith(field) for v in r.json["violations"])


def test_session_must_exist_and_take_place_and_be_measured_once(practice, course_id):
    r = post(practice, course_id, session_number=40, items=phq9(5, 0))
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "ipt.measure_session"
    practice.desk.post(f"/api/courses/{course_id}/sessions/2/cancel",
                       json={"by": "client", "make_up": False})
    r = post(practice, course_id, session_number=2, items=phq9(5, 0))
    assert r.status_code == 422 and "cancelled" in r.json["message"]
    assert post(practice, course_id, session_number=1, items=phq9(5, 0)).status_code == 201
    again = post(practice, course_id, session_number=1, items=phq9(6, 0))
    assert again.status_code == 409


def test_only_ipt_courses_take_measures(practice):
    c = practice.book("general", session_count=2, duration_minutes=50)["id"]
    r = post(practice, c, session_number=1, items=phq9(5, 0))
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "ipt.measure_modality"


def test_clinical_access(practice, course_id):
    url = f"/api/ipt/courses/{course_id}/measures"
    assert practice.desk.get(url).status_code == 403
    assert post(practice, course_id, practice.desk, session_number=1, items=phq9(5, 0)).status_code == 403
    assert practice.other_doctor.get(url).status_code == 404
    assert post(practice, course_id, practice.other_doctor, session_number=1, items=phq9(5, 0)).status_code == 404
    assert practice.admin.get(url).status_code == 200


def test_reads_and_writes_are_audited_without_scores(app, practice, course_id):
    post(practice, course_id, session_number=1, items=phq9(23, 1))
    practice.doctor.get(f"/api/ipt/courses/{course_id}/measures")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.object_type.in_(("ipt_measure", "ipt_measures")))
            .order_by(AuditEntry.id)).all()
        assert [(r.action, r.object_type) for r in rows] == [("create", "ipt_measure"),
                                                              ("view", "ipt_measures")]
        assert rows[0].details == {"course_id": course_id, "session_number": 1,
                                   "client_id": practice.client_id}
        assert all(r.user_id == practice.doctor.user_id for r in rows)


def test_measure_routes_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    ops = spec["paths"]["/api/ipt/courses/{course_id}/measures"]
    assert set(ops) >= {"get", "post"}
