"""IPT flags on real dates, through the HTTP API: raised once, escalated,
closed when their condition ends; "today" injected with PRACTICE_TODAY."""
from __future__ import annotations

from datetime import timedelta

import pytest
from test_ipt_support import phq9, monday_weeks_ago, practice  # noqa: F401  (fixture)

from practice.extensions import db
from practice.models import CourseFlag


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


def day(first, k: int, interval: int = 1):
    """The date of session k of a series starting on ``first``."""
    return first + timedelta(weeks=interval * (k - 1))


def test_problem_area_missing_after_session_3_high_at_4_gone_with_intake(app, practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=16, first_date=first)["id"]
    practice.today(day(first, 3))
    practice.attend(c, 1, 2)
    assert "ipt.problem_area_missing" not in practice.flags(c)
    practice.attend(c, 3)
    flag = practice.flags(c)["ipt.problem_area_missing"]
    assert flag["severity"] == "warning" and flag["due_date"] == day(first, 4).isoformat()

    practice.today(day(first, 4))
    flag4 = practice.flags(c)["ipt.problem_area_missing"]
    assert flag4["severity"] == "high" and flag4["id"] == flag["id"]  # raised once
    # Clinical flags: the admin sees it, the front desk does not.
    assert "ipt.problem_area_missing" in practice.flags(c, practice.admin)
    assert "ipt.problem_area_missing" not in practice.flags(c, practice.desk)

    r = practice.doctor.put(f"/api/courses/{c}/intake", json={"primary_problem_area": "grief"})
    assert r.status_code == 200, r.json
    assert "ipt.problem_area_missing" not in practice.flags(c)
    assert "ipt.problem_area_missing" not in \
        [f["code"] for f in practice.course(c)["flags"]]
    with app.app_context():
        rows = db.session.scalars(db.select(CourseFlag).where(
            CourseFlag.code == "ipt.problem_area_missing")).all()
        assert len(rows) == 1 and rows[0].closed_at is not None


def test_termination_due_when_4_sessions_remain(practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=16, first_date=first,
                      intake={"primary_problem_area": "role_transition"})["id"]
    practice.today(day(first, 16))
    practice.attend(c, *range(1, 12))
    assert "ipt.termination_due" not in practice.flags(c)
    practice.attend(c, 12)
    flag = practice.flags(c)["ipt.termination_due"]
    assert flag["message"].startswith("4 sessions remain")
    assert flag["due_date"] == day(first, 13).isoformat()
    # Extending the contract puts the ending further away: the flag closes.
    r = practice.doctor.post(f"/api/courses/{c}/extend",
                             json={"sessions": 2, "reason": "renegotiated"})
    assert r.status_code == 200, r.json
    assert "ipt.termination_due" not in practice.flags(c)


def test_completed_acute_course_raises_maintenance_due_and_ipt_m_clears_it(practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=12, first_date=first,
                      intake={"primary_problem_area": "grief"})["id"]
    practice.today(day(first, 12) + timedelta(days=1))
    done = practice.attend(c, *range(1, 13))
    assert done["status"] == "completed"
    flag = practice.flags(c)["ipt.maintenance_due"]
    assert flag["severity"] == "warning"
    assert flag["due_date"] == (day(first, 12) + timedelta(days=14)).isoformat()
    assert "ipt.termination_due" not in practice.flags(c)

    practice.today(day(first, 12) + timedelta(days=15))
    assert practice.flags(c)["ipt.maintenance_due"]["severity"] == "high"

    practice.book("ipt-m", first_date=monday_weeks_ago(-1))
    assert "ipt.maintenance_due" not in practice.flags(c)


def test_ended_early_course_raises_no_maintenance_flag(practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=12, first_date=first)["id"]
    practice.attend(c, 1, 2)
    r = practice.doctor.post(f"/api/courses/{c}/close", json={"outcome": "dropped out"})
    assert r.json["status"] == "ended_early"
    assert practice.flags(c) == {}


def test_ipt_m_with_no_attended_session_for_36_days_is_overdue_high_after_49(practice):
    first = monday_weeks_ago(24)
    c = practice.book("ipt-m", session_count=6, first_date=first)["id"]
    practice.attend(c, 1)
    practice.today(first + timedelta(days=35))
    assert "ipt.maintenance_overdue" not in practice.flags(c)
    practice.today(first + timedelta(days=36))
    flag = practice.flags(c)["ipt.maintenance_overdue"]
    assert flag["severity"] == "warning" and "36 days" in flag["message"]
    practice.today(first + timedelta(days=49))
    assert practice.flags(c)["ipt.maintenance_overdue"]["severity"] == "warning"
    practice.today(first + timedelta(days=50))
    assert practice.flags(c)["ipt.maintenance_overdue"]["severity"] == "high"
    practice.attend(c, 2)  # four weeks after the first: 22 days ago now
    assert "ipt.maintenance_overdue" not in practice.flags(c)


def test_measure_due_at_baseline_every_fourth_and_last(practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=12, first_date=first,
                      intake={"primary_problem_area": "grief"})["id"]
    measures = f"/api/ipt/courses/{c}/measures"
    assert practice.doctor.get(measures).json["due_sessions"] == [1, 4, 8, 12]
    practice.today(first - timedelta(days=3))
    flag = practice.flags(c)["ipt.measure_due"]
    assert (flag["severity"], flag["due_date"]) == ("info", first.isoformat())
    assert "session 1" in flag["message"]
    r = practice.doctor.post(measures, json={"session_number": 1, "items": phq9(18, 0)})
    assert r.status_code == 201, r.json
    assert "ipt.measure_due" not in practice.flags(c)

    practice.today(day(first, 5))
    practice.attend(c, 1, 2)
    assert "ipt.measure_due" not in practice.flags(c)
    practice.attend(c, 3)  # the next session, 4, is due
    assert practice.flags(c)["ipt.measure_due"]["severity"] == "info"
    practice.attend(c, 4)  # ... and went by without one
    flag = practice.flags(c)["ipt.measure_due"]
    assert flag["severity"] == "warning" and "session 4 was not recorded" in flag["message"]
    practice.doctor.post(measures, json={"session_number": 4, "items": phq9(12, 0)})
    assert "ipt.measure_due" not in practice.flags(c)


def test_phq9_item_9_raises_safety_review_for_the_clinician_and_admins(app, practice, runner):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=12, first_date=first,
                      intake={"primary_problem_area": "grief"})["id"]
    measures = f"/api/ipt/courses/{c}/measures"
    practice.attend(c, 1)
    r = practice.doctor.post(measures, json={"session_number": 1, "items": phq9(20, 2)})
    assert r.status_code == 201, r.json
    flag = practice.flags(c)["ipt.safety_review"]
    assert flag["severity"] == "high" and flag["audience"] == "clinical" and flag["held"]
    # The course shows the very item the flag list shows, in the same shape.
    on_course = {f["code"]: f for f in practice.course(c)["flags"]}
    assert on_course["ipt.safety_review"] == flag
    assert flag["clinician_id"] == practice.clinician_id and flag["course_id"] == c
    assert practice.flags(c, practice.admin)["ipt.safety_review"]["id"] == flag["id"]
    for api in (practice.desk, practice.other_doctor):
        assert "ipt.safety_review" not in practice.flags(c, api)
    assert "ipt.safety_review" not in [f["code"] for f in practice.course(c, practice.desk)
                                       ["flags"]]
    out = runner.invoke(args=["ipt", "flags", "--clinician-id",
                              str(practice.clinician_id)]).output
    assert f"course {c}\thigh\tipt.safety_review" in out

    # A later item 9 = 0 never closes it: only an acknowledgement does.
    practice.attend(c, 2, 3, 4)
    practice.doctor.post(measures, json={"session_number": 4, "items": phq9(9, 0)})
    assert practice.flags(c)["ipt.safety_review"]["id"] == flag["id"]


def test_flags_list_filters_and_a_clinician_sees_only_their_own(practice):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=12, first_date=first)["id"]
    practice.today(day(first, 4))
    practice.attend(c, 1, 2, 3)
    assert "ipt.problem_area_missing" in practice.flags(c)
    other = practice.other_doctor.get("/api/flags").json
    assert other["total"] == 0
    mine = practice.doctor.get("/api/flags?severity=high").json["items"]
    assert [f["code"] for f in mine] == ["ipt.problem_area_missing"]
    assert mine[0]["clinician_id"] == practice.clinician_id
    assert practice.admin.get(f"/api/flags?clinician_id={practice.clinician_id}"
                              ).json["total"] >= 1
    assert practice.admin.get("/api/flags?severity=urgent").status_code == 422


def test_ipt_flags_command_refreshes_and_lists_without_client_names(app, practice, runner):
    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=16, first_date=first)["id"]
    practice.attend(c, 1, 2, 3)
    out = runner.invoke(args=["ipt", "flags", "--today", day(first, 5).isoformat()]).output
    assert f"course {c}\thigh\tipt.problem_area_missing\tdue {day(first, 4).isoformat()}" in out
    assert "Client" not in out
    # problem area, and the PHQ-9 due at session 1 (missed) and at session 4 (next)
    assert out.strip().splitlines()[-1].startswith("3 open IPT flag(s) on 1 IPT course(s)")
    bad = runner.invoke(args=["ipt", "flags", "--today", "2030-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_ipt_command_exists_only_while_the_plugin_is_enabled(app_config):
    from practice import create_app

    off = create_app({**app_config, "PRACTICE_PLUGINS": ""})
    assert off.test_cli_runner().invoke(args=["ipt", "flags"]).exit_code == 2


def test_a_flag_raised_twice_by_racing_refreshes_is_healed(app, practice):
    from practice.models import Course
    from practice.services.flags import refresh_course_flags

    first = monday_weeks_ago(30)
    c = practice.book("ipt", session_count=16, first_date=first)["id"]
    practice.today(day(first, 4))
    practice.attend(c, 1, 2, 3)
    with app.app_context():
        course = db.session.get(Course, c)
        twin = next(f for f in course.flags if f.code == "ipt.problem_area_missing")
        course.flags.append(CourseFlag(code=twin.code, plugin="ipt", severity="high",
                                       audience=twin.audience, message=twin.message,
                                       due_date=twin.due_date))
        db.session.commit()
        refresh_course_flags(course)
        db.session.commit()
        open_rows = [f.id for f in course.flags
                     if f.code == twin.code and f.closed_at is None]
        assert open_rows == [twin.id]
