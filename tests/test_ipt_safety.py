"""The IPT safety review (issue 11, problems 1, 2 and 4): any PHQ-9 entry
with item 9 at or above the threshold raises ``ipt.safety_review`` for that
client, whatever was recorded before or after; it stays open until a person
acknowledges it; the treating clinician and the admins see it, nobody else;
the answer that raised it says so; overdue after 2 working days."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ipt_support import Practice, monday_weeks_ago, phq9  # noqa: F401
from test_ipt_support import practice  # noqa: F401  (fixture)

from practice.extensions import db
from practice.models import AuditEntry

ACK = {"outcome": "safety_plan_reviewed", "note": "Safety plan reviewed with the client."}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


def measure(practice, course_id, number, item9=0, total=None, api=None, **extra):
    total = total if total is not None else 10 + item9
    return (api or practice.doctor).post(f"/api/ipt/courses/{course_id}/measures", json={
        "session_number": number, "items": phq9(total, item9), **extra})


def reviews(practice, course_id, api=None) -> list[dict]:
    r = (api or practice.doctor).get(f"/api/flags?course_id={course_id}&limit=500")
    assert r.status_code == 200, r.json
    return [f for f in r.json["items"] if f["code"].startswith("ipt.safety_review")]


@pytest.fixture
def current(practice):
    """An IPT course whose session 8 is this week's: 1-8 have started, 9-16 not."""
    return practice.book("ipt", session_count=16, first_date=monday_weeks_ago(7))["id"]


# -- problem 1: the review can be missed -----------------------------------------
def test_a_measure_for_a_session_not_yet_started_is_refused(practice, current):
    r = measure(practice, current, 16, item9=0)
    assert r.status_code == 422
    assert [v["rule"] for v in r.json["violations"]] == ["ipt.measure_session_not_started"]


def test_a_future_measure_cannot_hide_a_later_item_9(practice, current):
    measure(practice, current, 16, item9=0)  # refused: nothing stored
    r = measure(practice, current, 8, item9=2)
    assert r.status_code == 201, r.json
    assert [f["code"] for f in reviews(practice, current)] == ["ipt.safety_review"]


def test_a_paper_form_typed_in_late_still_raises_a_review(practice, current):
    assert measure(practice, current, 4, item9=0).status_code == 201
    r = measure(practice, current, 1, item9=3)
    assert r.status_code == 201 and r.json["safety_review"] is True
    assert len(reviews(practice, current)) == 1


def test_a_later_zero_never_closes_a_review(practice, current):
    measure(practice, current, 2, item9=1)
    flag = reviews(practice, current)[0]
    for n in (3, 4, 5):
        assert measure(practice, current, n, item9=0).status_code == 201
    assert [f["id"] for f in reviews(practice, current)] == [flag["id"]]


def test_a_cancelled_session_takes_no_measure(practice, current):
    practice.desk.post(f"/api/courses/{current}/sessions/9/cancel",
                       json={"by": "client", "make_up": False})
    practice.desk.post(f"/api/courses/{current}/sessions/3/cancel",
                       json={"by": "client", "make_up": False})
    r = measure(practice, current, 3, item9=0)
    assert r.status_code == 422
    assert [v["rule"] for v in r.json["violations"]] == ["ipt.measure_session_cancelled"]


# -- problem 2: impossible scores; corrections ----------------------------------------
def test_total_is_computed_and_impossible_scores_refused(practice, current):
    r = practice.doctor.post(f"/api/ipt/courses/{current}/measures", json={
        "session_number": 1, "phq9_total": 27, "phq9_item9": 0})
    assert r.status_code == 422
    r = practice.doctor.post(f"/api/ipt/courses/{current}/measures", json={
        "session_number": 1, "items": [3, 3, 3, 3, 3, 3, 3, 3, 0], "total": 5})
    assert r.status_code == 422  # the total is never typed
    r = measure(practice, current, 1, total=24, item9=0)
    assert (r.json["total"], r.json["band"], r.json["item9"]) == (24, "severe", 0)


def test_correct_and_void_keep_history_and_never_hide_a_review(app, practice, current):
    r = measure(practice, current, 5, item9=2)
    mid, flag = r.json["id"], r.json["flags"][0]
    assert flag["code"] == "ipt.safety_review" and r.json["crisis_text"] == ""
    fixed = practice.doctor.patch(f"/api/ipt/measures/{mid}", json={
        "items": phq9(10, 0), "reason": "item 9 was ticked on the wrong line"})
    assert fixed.status_code == 200 and fixed.json["item9"] == 0 and fixed.json["version"] == 2
    assert fixed.json["flags"] == []
    assert [f["id"] for f in reviews(practice, current)] == [flag["id"]]
    gone = practice.doctor.post(f"/api/ipt/measures/{mid}/void",
                                json={"reason": "entered for the wrong client"})
    assert gone.status_code == 200 and gone.json["voided"]
    assert [f["id"] for f in reviews(practice, current)] == [flag["id"]]
    hist = practice.admin.get(f"/api/ipt/measures/{mid}").json["history"]
    assert [(h["version"], h["action"], h["item9"]) for h in hist] == \
        [(1, "entered", 2), (2, "corrected", 0), (3, "voided", 0)]
    assert practice.doctor.patch(f"/api/ipt/measures/{mid}", json={
        "items": phq9(10, 0), "reason": "again"}).status_code == 422
    assert practice.doctor.patch(f"/api/ipt/measures/{mid}", json={
        "items": phq9(10, 0)}).status_code == 422  # a reason is required
    # A voided measure frees its place: the right entry can be made.
    assert measure(practice, current, 5, item9=0).status_code == 201
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action).where(
            AuditEntry.object_type == "ipt_measure", AuditEntry.object_id == mid)
            .order_by(AuditEntry.id)).all()
    assert actions[:3] == ["create", "correct", "void"] and "view" in actions


def test_a_correction_raising_item_9_raises_a_review(practice, current):
    mid = measure(practice, current, 6, item9=0).json["id"]
    assert reviews(practice, current) == []
    r = practice.doctor.patch(f"/api/ipt/measures/{mid}", json={
        "items": phq9(12, 1), "reason": "item 9 was missed when typing"})
    assert r.json["safety_review"] and len(reviews(practice, current)) == 1


# -- problem 4: who sees it; acknowledgement; overdue ---------------------------------
def test_admins_see_every_open_review_another_clinician_none(practice, current):
    measure(practice, current, 3, item9=1)
    admin = practice.admin.get("/api/flags?code=ipt.safety_review").json["items"]
    assert len(admin) == 1 and admin[0]["age_days"] == 0 and admin[0]["held"]
    assert admin[0]["client_id"] == practice.client_id
    assert practice.other_doctor.get("/api/flags").json["total"] == 0
    assert reviews(practice, current, practice.desk) == []
    flag_id = admin[0]["id"]
    for api in (practice.other_doctor, practice.desk):
        assert api.post(f"/api/flags/{flag_id}/acknowledge", json=ACK).status_code == 404
        assert api.get(f"/api/ipt/measures/1").status_code in (403, 404)


def test_acknowledgement_closes_it_and_is_audited(app, practice, current):
    measure(practice, current, 3, item9=2)
    flag = reviews(practice, current)[0]
    url = f"/api/flags/{flag['id']}/acknowledge"
    assert practice.doctor.post(url, json={"outcome": "fine", "note": "x"}).status_code == 422
    assert practice.doctor.post(url, json={"outcome": "other", "note": " "}).status_code == 422
    r = practice.admin.post(url, json=ACK)
    assert r.status_code == 200 and r.json["ack_outcome"] == "safety_plan_reviewed"
    assert reviews(practice, current) == []
    assert practice.admin.post(url, json=ACK).status_code == 409
    # A later entry never re-raises an acknowledged review; a new one raises its own.
    measure(practice, current, 4, item9=0)
    assert reviews(practice, current) == []
    measure(practice, current, 5, item9=1)
    assert len(reviews(practice, current)) == 1
    with app.app_context():
        row = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "acknowledge")).one()
    assert row.details["outcome"] == "safety_plan_reviewed" and "note" not in row.details
    assert row.user_id == practice.admin.user_id


def test_other_flags_are_not_acknowledged(practice):
    c = practice.book("ipt", session_count=12, first_date=monday_weeks_ago(30))["id"]
    practice.attend(c, 1, 2, 3)
    f = practice.flags(c)["ipt.problem_area_missing"]
    r = practice.doctor.post(f"/api/flags/{f['id']}/acknowledge", json=ACK)
    assert r.status_code == 422 and r.json["violations"][0]["rule"] == "flag.not_acknowledgeable"


def test_unacknowledged_after_two_working_days_it_is_overdue(practice, current):
    measure(practice, current, 3, item9=1)
    practice.today(date.today() + timedelta(days=1))
    assert [f["code"] for f in reviews(practice, current)] == ["ipt.safety_review"]
    practice.today(date.today() + timedelta(days=7))
    practice.app.extensions.pop("practice_flags_refreshed", None)
    got = reviews(practice, current, practice.admin)
    assert [f["code"] for f in got] == ["ipt.safety_review_overdue"]
    assert got[0]["age_days"] == 7


def test_crisis_text_is_a_setting_shown_with_the_review(practice, current):
    practice.app.extensions["ipt"] = __import__("dataclasses").replace(
        practice.app.extensions["ipt"], crisis_text="Call the local crisis line.")
    r = measure(practice, current, 2, item9=3)
    assert r.json["crisis_text"] == "Call the local crisis line."
    assert measure(practice, current, 3, item9=0).json["crisis_text"] == ""


def test_a_review_never_leaves_the_practice_in_feeds(practice, current):
    measure(practice, current, 2, item9=3)
    from practice.services.flags import open_flags_query  # noqa: F401  (feeds read no flags)
    import practice.feeds as feeds_pkg
    import pathlib
    src = " ".join(p.read_text() for p in pathlib.Path(feeds_pkg.__file__).parent.glob("*.py"))
    assert "CourseFlag" not in src and "safety" not in src


# -- property: open reviews are exactly the raising entries not acknowledged ----------
OPS = st.lists(st.one_of(
    st.tuples(st.just("enter"), st.integers(1, 6), st.integers(0, 3)),
    st.tuples(st.just("correct"), st.integers(0, 5), st.integers(0, 3)),
    st.tuples(st.just("void"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("ack"), st.integers(0, 5), st.just(0)),
), min_size=1, max_size=10)


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_open_reviews_are_exactly_the_raising_entries_not_acknowledged(
        app, api_as, make_clinician, make_room, make_client, ops):
    p = Practice(app, api_as, make_clinician, make_room, make_client)
    c = p.book("ipt", session_count=12, first_date=monday_weeks_ago(30))["id"]
    ids: list[int] = []              # measures, in entry order
    item9: dict[int, int] = {}       # measure -> current item 9
    voided: set[int] = set()
    model: list[int] = []            # open reviews (by measure), oldest first
    taken: set[int] = set()
    for op, i, v in ops:
        if op == "enter" and i not in taken:
            r = measure(p, c, i, item9=v)
            assert r.status_code == 201, r.json
            taken.add(i)
            mid = r.json["id"]
            ids.append(mid)
            item9[mid] = v
            if v >= 1:
                model.append(mid)
            assert r.json["safety_review"] == (v >= 1)
        elif op == "correct" and ids:
            mid = ids[i % len(ids)]
            r = p.doctor.patch(f"/api/ipt/measures/{mid}", json={
                "items": phq9(10 + v, v), "reason": "typo"})
            if mid in voided:
                assert r.status_code == 422
                continue
            assert r.status_code == 200
            if v >= 1 and v != item9[mid]:
                model.append(mid)
            item9[mid] = v
        elif op == "void" and ids:
            mid = ids[i % len(ids)]
            r = p.doctor.post(f"/api/ipt/measures/{mid}/void", json={"reason": "wrong"})
            assert r.status_code == (422 if mid in voided else 200)
            voided.add(mid)
        elif op == "ack":
            open_now = reviews(p, c)
            if open_now:
                f = open_now[i % len(open_now)]
                assert p.doctor.post(f"/api/flags/{f['id']}/acknowledge",
                                     json=ACK).status_code == 200
                model.remove(int(re.search(r"measure (\d+)", f["message"]).group(1)))
        got = sorted(int(re.search(r"measure (\d+)", f["message"]).group(1))
                     for f in reviews(p, c))
        assert got == sorted(model)
