"""IPT outcomes and counting (issue 11, problems 3 and 5-9): ended_early
below 12 delivered sessions through the close-status hook, delivered means
attended, per-member measures in a group, dry-run phases, IPT-B session 0 by
number, limited make-ups with the attendance flag, the maintenance decision."""
from __future__ import annotations

import pytest
from test_ipt_support import monday_weeks_ago, phq9
from test_ipt_support import practice  # noqa: F401  (fixture)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


def cancel(practice, c, n, make_up=False):
    r = practice.desk.post(f"/api/courses/{c}/sessions/{n}/cancel",
                           json={"by": "client", "make_up": make_up})
    assert r.status_code == 200, r.json
    return r.json


def test_5_last_session_attended_below_the_minimum_ends_early(practice):
    c = practice.book("ipt", session_count=12)["id"]
    practice.attend(c, 1)
    for n in range(2, 12):
        cancel(practice, c, n)
    practice.attend(c, 12)
    course = practice.course(c)
    assert course["status"] == "ended_early"
    assert "ipt.maintenance_due" not in practice.flags(c)


def test_5_twelve_delivered_complete(practice):
    c = practice.book("ipt", session_count=12)["id"]
    practice.attend(c, *range(1, 13))
    assert practice.course(c)["status"] == "completed"
    assert "ipt.maintenance_due" in practice.flags(c)


def test_6_a_no_show_is_not_delivered_and_counts_agree(practice):
    c = practice.book("ipt-m", session_count=6)["id"]
    practice.attend(c, 1)
    practice.attend(c, 2, status="no_show")
    course = practice.course(c)
    s3 = next(s for s in course["sessions"] if s["number"] == 3)
    assert course["progress"]["delivered"] == 1
    assert course["progress"]["label"] == s3["label"] == "session 2 of 6"


def test_7_dry_run_shows_the_phases_of_the_booking(practice):
    body = {"client_ids": [practice.client_id], "clinician_id": practice.clinician_id,
            "room_id": practice.room_id, "modality": "ipt", "session_count": 12,
            "first_date": monday_weeks_ago(-3).isoformat(), "start_time": "10:00"}
    r = practice.desk.post("/api/courses", json={**body, "dry_run": True})
    assert r.status_code == 200 and r.json["dry_run"], r.json
    phases = [s["phase"] for s in r.json["sessions"]]
    booked = practice.book("ipt", session_count=12, first_date=monday_weeks_ago(-3))
    assert phases == [s["phase"] for s in booked["sessions"]]
    assert phases[0] == "initial" and phases[-1] == "termination"


def test_8_ipt_b_engagement_session_is_session_0_by_number(practice):
    c = practice.book("ipt-b", session_count=9)
    before = {s["number"]: s["phase"] for s in c["sessions"]}
    cancel(practice, c["id"], 1)
    after = {s["number"]: s["phase"] for s in practice.course(c["id"])["sessions"]}
    assert before[1] == "engagement" and after[1] is None
    assert {n: after[n] for n in range(2, 10)} == {n: before[n] for n in range(2, 10)}
    assert [after[n] for n in range(2, 10)] == ["initial"] * 2 + ["middle"] * 3 + \
        ["termination"] * 3
    due = practice.doctor.get(f"/api/ipt/courses/{c['id']}/measures").json["due_sessions"]
    assert due == [2, 5, 9]


def test_9_make_ups_are_limited_and_attendance_prompts_renegotiation(practice):
    c = practice.book("ipt", session_count=12)["id"]
    made = []
    for n in range(1, 9):
        made.append(practice.attend(c, n, status="no_show")["make_up"])
    assert sum(m is not None for m in made) == 4
    course = practice.course(c)
    assert len(course["sessions"]) == 16
    flag = practice.flags(c)["ipt.attendance"]
    assert "renegotiate" in flag["message"]


def test_3_a_group_screens_each_member(practice):
    members = [practice.make_client(), practice.make_client(), practice.make_client()]
    c = practice.book("ipt-g", client_ids=members, start_time="14:00")["id"]
    practice.attend(c, 1)
    url = f"/api/ipt/courses/{c}/measures"
    assert practice.doctor.post(url, json={"session_number": 1, "items": phq9(10)}
                                ).json["violations"][0]["rule"] == "ipt.measure_client"
    for i, cid in enumerate(members):
        r = practice.doctor.post(url, json={"session_number": 1, "client_id": cid,
                                            "items": phq9(10, 1 if i == 2 else 0)})
        assert r.status_code == 201, r.json
    stranger = practice.make_client()
    r = practice.doctor.post(url, json={"session_number": 1, "client_id": stranger,
                                        "items": phq9(10)})
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "ipt.measure_client"
    got = practice.doctor.get(url).json["items"]
    assert sorted(m["client_id"] for m in got) == sorted(members)
    flags = [f for f in practice.doctor.get(f"/api/flags?course_id={c}").json["items"]
             if f["code"] == "ipt.safety_review"]
    assert [f["client_id"] for f in flags] == [members[2]]


def test_maintenance_decision_closes_maintenance_due_and_is_audited(practice):
    c = practice.book("ipt", session_count=12)["id"]
    practice.attend(c, *range(1, 13))
    assert "ipt.maintenance_due" in practice.flags(c)
    url = f"/api/ipt/courses/{c}/maintenance"
    assert practice.desk.post(url, json={"decision": "declined"}).status_code == 403
    assert practice.other_doctor.post(url, json={"decision": "declined"}).status_code == 404
    assert practice.doctor.post(url, json={"decision": "maybe"}).status_code == 422
    r = practice.doctor.post(url, json={"decision": "declined", "note": "well for 3 months"})
    assert r.status_code == 200 and r.json["decision"] == "declined"
    assert "ipt.maintenance_due" not in practice.flags(c)
