"""The IPT contract over the HTTP API: bounds, phases, extension, make-ups,
closing early (SPEC section 8), on real dates."""
from __future__ import annotations

import re

import pytest
from test_ipt_support import monday_weeks_ago, practice  # noqa: F401  (fixture)

from practice.extensions import db
from practice.models import AuditEntry


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


def phases(course: dict) -> list[str]:
    return [s["phase"] for s in course["sessions"]]


def test_sixteen_session_ipt_course_has_the_three_phases(practice):
    course = practice.book("ipt", session_count=16, duration_minutes=50)
    assert phases(course) == ["initial"] * 3 + ["middle"] * 10 + ["termination"] * 3
    assert [s["label"] for s in course["sessions"]][13] == "session 14 of 16"
    assert any(w["rule"] == "schedule.past" for w in course["warnings"])


@pytest.mark.parametrize("count", [11, 17])
def test_session_count_outside_12_to_16_is_refused(practice, count):
    body = practice.book("ipt", session_count=count, expect=422)
    rules = [(v["rule"], v["plugin"]) for v in body["violations"]]
    assert rules == [("ipt.session_count", "ipt")]


@pytest.mark.parametrize("modality,extra,rule", [
    ("ipt", {"interval_weeks": 2}, "ipt.interval"),
    ("ipt", {"duration_minutes": 90}, "ipt.duration"),
    ("ipt-a", {"duration_minutes": 55}, "ipt.duration"),
    ("ipt-a", {"session_count": 16}, "ipt.session_count"),
    ("ipt-b", {"session_count": 10}, "ipt.session_count"),
    ("ipt-g", {"duration_minutes": 60}, "ipt.duration"),
    ("ipt-g", {}, "ipt.clients"),                      # one client: a group needs 2+
    ("ipt-m", {"interval_weeks": 1}, "ipt.interval"),
    ("ipt-m", {"session_count": 40}, "ipt.session_count"),  # beyond 24 months
    ("ipt-m", {"session_count": 5}, "ipt.session_count"),   # under 6 months
])
def test_each_modality_refuses_outside_its_bounds(practice, modality, extra, rule):
    body = practice.book(modality, expect=422, **extra)
    assert (rule, "ipt") in [(v["rule"], v["plugin"]) for v in body["violations"]]


def test_modalities_book_with_their_defaults(practice, make_client):
    m = practice.book("ipt-m", first_date=monday_weeks_ago(-2))
    assert m["planned_sessions"] == 26 and m["interval_weeks"] == 4
    assert set(phases(m)) == {"maintenance"}
    g = practice.book("ipt-g", first_date=monday_weeks_ago(-200), start_time="14:00",
                      client_ids=[make_client(), make_client(), make_client()])
    assert (g["planned_sessions"], g["duration_minutes"]) == (16, 90)


def test_brief_ipt_with_engagement_session_zero(practice):
    course = practice.book("ipt-b", session_count=9)
    assert phases(course) == ["engagement"] + ["initial"] * 2 + ["middle"] * 3 + \
        ["termination"] * 3
    plain = practice.book("ipt-b", session_count=8, start_time="12:00")
    assert phases(plain) == ["initial"] * 2 + ["middle"] * 3 + ["termination"] * 3


def test_extending_beyond_16_needs_a_reason_and_is_audited(app, practice):
    course = practice.book("ipt", session_count=16)
    url = f"/api/courses/{course['id']}/extend"
    refused = practice.doctor.post(url, json={"sessions": 2})
    assert refused.status_code == 422
    assert [(v["rule"], v["plugin"]) for v in refused.json["violations"]] == \
        [("ipt.extension_reason", "ipt")]
    assert len(practice.course(course["id"])["sessions"]) == 16  # nothing written

    ok = practice.doctor.post(url, json={"sessions": 2, "reason": "renegotiated: new loss"})
    assert ok.status_code == 200, ok.json
    assert ok.json["planned_sessions"] == 18
    assert phases(ok.json)[-3:] == ["termination"] * 3 and phases(ok.json)[14] == "middle"
    with app.app_context():
        row = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "extend", AuditEntry.object_id == course["id"])).one()
        assert row.details["new_total"] == 18 and row.details["reason"]


def test_extension_is_capped_at_20(practice):
    course = practice.book("ipt", session_count=16)
    url = f"/api/courses/{course['id']}/extend"
    r = practice.doctor.post(url, json={"sessions": 5, "reason": "renegotiated"})
    assert r.status_code == 422
    assert ("ipt.session_count", "ipt") in [(v["rule"], v["plugin"])
                                            for v in r.json["violations"]]
    assert practice.doctor.post(url, json={"sessions": 4, "reason": "renegotiated"}
                                ).status_code == 200


def test_closing_before_12_attended_ends_early(practice):
    course = practice.book("ipt", session_count=14)
    practice.attend(course["id"], *range(1, 12))
    r = practice.doctor.post(f"/api/courses/{course['id']}/close",
                             json={"outcome": "moved away", "reason": "relocation"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "ended_early"


def test_closing_after_12_attended_completes(practice):
    course = practice.book("ipt", session_count=14)
    practice.attend(course["id"], *range(1, 13))
    r = practice.doctor.post(f"/api/courses/{course['id']}/close",
                             json={"outcome": "remission"})
    assert r.json["status"] == "completed"


def test_cancelled_and_missed_sessions_are_made_up(practice):
    course = practice.book("ipt", session_count=12)
    cid = course["id"]
    r = practice.desk.post(f"/api/courses/{cid}/sessions/2/cancel",
                           json={"by": "client", "reason": "ill"})
    assert r.status_code == 200, r.json
    assert r.json["make_up"]["number"] == 13
    last = r.json["sessions"][-1]
    assert last["is_make_up"] and last["starts_at"][11:16] == "10:00"
    # A missed session is made up too.
    r = practice.attend(cid, 3, status="no_show")
    assert r["make_up"]["number"] == 14
    assert [s["phase"] for s in r["sessions"] if s["number"] == 14] == ["termination"]
    # ... unless the request says no.
    r = practice.desk.post(f"/api/courses/{cid}/sessions/4/cancel",
                           json={"by": "practice", "make_up": False})
    assert r.json["make_up"] is None
    assert len(r.json["sessions"]) == 14


def test_general_courses_get_no_make_up_unless_asked(practice):
    course = practice.book("general", session_count=4, duration_minutes=50)
    r = practice.desk.post(f"/api/courses/{course['id']}/sessions/2/cancel",
                           json={"by": "client"})
    assert r.json["make_up"] is None
    assert all(s["phase"] is None for s in r.json["sessions"])


def test_ipt_warnings_name_their_rule_and_plugin(app, practice, make_client):
    from datetime import timedelta

    from practice.models import Course
    from practice.services.modalities import run_checks

    first = practice.book("ipt", session_count=12)
    second = practice.book("ipt", session_count=12, start_time="15:00")
    assert {"rule": "ipt.concurrent_course", "plugin": "ipt", "field": "client_ids",
            "message": "A client of this booking already has an active acute IPT course; "
                       "IPT works on one contract at a time."} in second["warnings"]
    alone = practice.book("ipt-m", client_ids=[make_client()], start_time="17:00")
    assert "ipt.maintenance_without_acute" in [w["rule"] for w in alone["warnings"]]
    # A move that breaks the weekly rhythm is allowed with a warning.
    with app.app_context():
        course = db.session.get(Course, first["id"])
        s3 = next(s for s in course.sessions if s.number == 3)
        near = s3.starts_at + timedelta(days=5)
        violations, warnings = run_checks(
            "practice_check_reschedule", course=course, session=s3, scope="this",
            changes=[{"number": 3, "starts_at": near, "ends_at": near + timedelta(minutes=50),
                      "room_id": s3.room_id}])
        assert violations == [] and [(w["rule"], w["plugin"]) for w in warnings] == \
            [("ipt.weekly_rhythm", "ipt")]
        same_week = s3.starts_at + timedelta(days=1)
        _, warnings = run_checks(
            "practice_check_reschedule", course=course, session=s3, scope="this",
            changes=[{"number": 3, "starts_at": same_week, "room_id": s3.room_id,
                      "ends_at": same_week + timedelta(minutes=50)}])
        assert warnings == []


def test_full_privacy_feed_shows_session_k_of_n_and_phase_only(practice):
    practice.book("ipt", session_count=16, first_date=monday_weeks_ago(2),
                  intake={"primary_problem_area": "grief"})
    url = practice.admin.post(f"/api/clinicians/{practice.clinician_id}/feed",
                              json={"privacy": "full"}).json["url"]
    ics = practice.desk.client.get(url[url.index("/feeds/"):]).get_data(as_text=True)
    unfolded = ics.replace("\r\n ", "")
    assert "session 1 of 16 (initial)" in unfolded
    assert "session 16 of 16 (termination)" in unfolded
    # Nothing clinical leaves the practice: no problem area, not the modality.
    assert not re.search(r"grief|\bipt\b", unfolded, re.IGNORECASE)
    initials = practice.admin.post(f"/api/clinicians/{practice.clinician_id}/feed",
                                   json={"privacy": "initials"}).json["url"]
    plain = practice.desk.client.get(initials[initials.index("/feeds/"):]).get_data(
        as_text=True)
    assert "session 1 of 16" not in plain.replace("\r\n ", "")


def test_plugin_warnings_on_a_move_reach_the_answer(practice):
    course = practice.book("ipt", session_count=12, first_date=monday_weeks_ago(-2))
    cid = course["id"]
    # Session 3 moved to two days after session 2: allowed, but IPT warns.
    s2 = course["sessions"][1]["starts_at"][:10]
    from datetime import date, timedelta
    day = (date.fromisoformat(s2) + timedelta(days=2)).isoformat()
    r = practice.desk.post(f"/api/courses/{cid}/sessions/3/reschedule",
                           json={"date": day, "start_time": "10:00"})
    assert r.status_code == 200, r.json
    assert [(w["rule"], w["plugin"]) for w in r.json["warnings"]] == [("ipt.weekly_rhythm", "ipt")]


def test_a_missed_session_made_up_keeps_the_phases_right(practice):
    course = practice.book("ipt", session_count=12)
    cid = course["id"]
    r = practice.desk.post(f"/api/courses/{cid}/sessions/1/attendance", json={"status": "no_show"})
    assert r.status_code == 200, r.json
    labels = [s["label"] for s in r.json["sessions"]]
    assert labels[0] is None and labels[-1] == "session 12 of 12"
    assert r.json["sessions"][-1]["phase"] == "termination"
