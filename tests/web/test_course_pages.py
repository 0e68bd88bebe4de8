"""The course pages (server side): the list, one course with its sessions, and
every action as a plain form, checked against the API afterwards."""
from __future__ import annotations

import pytest

from practice.extensions import db
from practice.models import Course

from .page_html import checked, element, has_id, text, value

PASSWORD = "correct horse battery"


def sign_in(client, email):
    r = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.text
    return client


@pytest.fixture
def world(make_clinician, make_room, make_client, make_user, api_as):
    """Dr Okafor's future course (6 weekly sessions from Monday 4 March 2030,
    10:00, Room One), Dr Lindqvist's past course (3 sessions from 2 March
    2020) and a one-off session of his in Room One on 12 March 2030 at 14:00."""
    ids = {"okafor": make_clinician("Dr Ada Okafor"), "lind": make_clinician("Dr Ben Lindqvist"),
           "room": make_room("Room One"), "room2": make_room("Room Two"),
           "ann": make_client("Ann Example"), "bo": make_client("Bo Sample")}
    make_user("front_desk", email="desk@test.example")
    make_user("clinician", clinician_id=ids["okafor"], email="okafor@test.example")
    desk = api_as("front_desk")

    def book(clinician, room, client, first_date, start_time, count):
        r = desk.post("/api/courses", json={
            "clinician_id": clinician, "room_id": room, "client_ids": [client],
            "first_date": first_date, "start_time": start_time, "duration_minutes": 50,
            "session_count": count})
        assert r.status_code == 201, r.json
        return r.json["id"]

    ids["course"] = book(ids["okafor"], ids["room"], ids["ann"], "2030-03-04", "10:00", 6)
    ids["past"] = book(ids["lind"], ids["room2"], ids["bo"], "2020-03-02", "10:00", 3)
    ids["busy"] = book(ids["lind"], ids["room"], ids["bo"], "2030-03-12", "14:00", 1)
    ids["api"] = desk
    return ids


@pytest.fixture
def desk_page(client, world):
    return sign_in(client, "desk@test.example")


def course(world, course_id=None):
    r = world["api"].get(f"/api/courses/{course_id or world['course']}")
    assert r.status_code == 200
    return r.json


def by_number(c) -> dict:
    return {s["number"]: s for s in c["sessions"]}


# -- the list ------------------------------------------------------------------
def test_list_shows_progress_modality_clinician_and_next_session(desk_page, world):
    r = desk_page.get("/courses")
    assert r.status_code == 200
    row = text(element(r.text, "main"))
    assert "3 courses" in row
    page = r.text
    assert f'href="/courses/{world["course"]}"' in page
    assert "session 1 of 6" in page and "General therapy" in page
    assert "Dr Ada Okafor" in page and "Ann Example" in page
    assert "Mon 4 Mar 2030, 10:00" in page  # the next session


def test_list_filters_as_the_api_does(desk_page, world):
    r = desk_page.get(f"/courses?clinician_id={world['lind']}")
    assert f'href="/courses/{world["past"]}"' in r.text
    assert f'href="/courses/{world["course"]}"' not in r.text
    assert value(r.text, "flt-clinician") == str(world["lind"])
    r = desk_page.get(f"/courses?client_id={world['ann']}")
    assert "Courses of" in r.text and "Ann Example" in r.text
    assert "1 course." in text(r.text)


@pytest.mark.parametrize("query, field", [
    ("status=bogus", "flt-status"), ("clinician_id=abc", "flt-clinician"),
    ("offset=-5", None), ("limit=100000", None), ("client_id=99999999999", None),
])
def test_bad_list_filters_are_named_never_a_500(desk_page, world, query, field):
    r = desk_page.get(f"/courses?{query}")
    assert r.status_code == 400 and r.mimetype == "text/html"
    if field:
        assert 'aria-invalid="true"' in element(r.text, field)
    else:
        assert "was not used" in r.text
    assert f'href="/courses/{world["course"]}"' in r.text  # still the list, unfiltered


def test_clinician_lists_only_their_own_courses(client, world):
    sign_in(client, "okafor@test.example")
    r = client.get("/courses")
    assert "My courses" in r.text
    assert f'href="/courses/{world["course"]}"' in r.text
    assert f'href="/courses/{world["past"]}"' not in r.text
    assert "Bo Sample" not in r.text
    assert not has_id(r.text, "flt-clinician")


# -- one course ----------------------------------------------------------------
def test_course_page_shows_clients_sessions_k_of_n_and_status(desk_page, world):
    r = desk_page.get(f"/courses/{world['course']}")
    assert r.status_code == 200
    about = text(element(r.text, "main"))
    assert "Ann Example" in about and "Dr Ada Okafor" in about and "General therapy" in about
    assert "Mondays 10:00, 50 min, every week" in about
    row = text(element(r.text, "s-2"))
    assert row.startswith("2 Mon 11 Mar 2030 10:00–10:50")
    assert "2 of 6" in row and "Scheduled" in row and "Room One" in row
    assert f'href="/clients/{world["ann"]}"' in r.text
    # no session chosen yet: the panel explains how to choose one
    assert "Choose a session" in text(element(r.text, "session-panel"))


def test_choosing_a_session_opens_its_panel(desk_page, world):
    r = desk_page.get(f"/courses/{world['course']}?session=3")
    panel = element(r.text, "session-panel")
    assert "Session 3" in text(panel)
    assert value(panel, "rs-date") == "2030-03-18" and value(panel, "rs-time") == "10:00"
    assert checked(panel, "rs-scope-1")  # "this session only"
    assert has_id(panel, "act-cancel")
    assert not has_id(panel, "act-attendance")  # it has not started
    assert 'aria-current="true"' in element(r.text, "s-3")


def test_modality_of_a_disabled_plugin_is_shown_as_not_enabled(app, desk_page, world):
    with app.app_context():
        db.session.get(Course, world["course"]).modality = "ipt"
        db.session.commit()
    r = desk_page.get(f"/courses/{world['course']}")
    assert r.status_code == 200
    assert "not enabled" in text(element(r.text, "main"))
    assert "ipt (not enabled)" in desk_page.get("/courses").text


def test_reschedule_this_session(desk_page, world):
    cid = world["course"]
    r = desk_page.post(f"/courses/{cid}/sessions/2/reschedule",
                       data={"date": "2030-03-13", "start_time": "15:00", "room_id": "",
                             "scope": "this", "csrf_token": "x"})
    assert r.status_code == 303
    assert r.location == f"/courses/{cid}?session=2#main"
    s = by_number(course(world))
    assert s[2]["starts_at"] == "2030-03-13T15:00:00+00:00"
    assert s[3]["starts_at"] == "2030-03-18T10:00:00+00:00"
    page = desk_page.get(r.location).text
    assert "Session 2 moved to Wed 13 Mar 2030, 15:00." in text(page)


def test_reschedule_this_and_following_to_another_room(desk_page, world):
    cid = world["course"]
    r = desk_page.post(f"/courses/{cid}/sessions/4/reschedule",
                       data={"date": "2030-03-26", "start_time": "11:00",
                             "room_id": str(world["room2"]), "scope": "following"})
    assert r.status_code == 303
    c = course(world)
    s = by_number(c)
    assert s[3]["starts_at"] == "2030-03-18T10:00:00+00:00"
    assert [s[n]["starts_at"][:16] for n in (4, 5, 6)] == [
        "2030-03-26T11:00", "2030-04-02T11:00", "2030-04-09T11:00"]
    assert {s[n]["room_id"] for n in (4, 5, 6)} == {world["room2"]}
    assert c["start_time"] == "11:00"


def test_refused_reschedule_shows_the_conflict_keeps_the_form_and_changes_nothing(desk_page,
                                                                                  world):
    cid = world["course"]
    before = course(world)
    r = desk_page.post(f"/courses/{cid}/sessions/2/reschedule",
                       data={"date": "2030-03-12", "start_time": "14:30", "room_id": "",
                             "scope": "this"})
    assert r.status_code == 409
    panel = element(r.text, "act-reschedule")
    assert panel.startswith('<details id="act-reschedule" open')
    box = text(element(panel, "refusal-reschedule"))
    assert "Not possible: it clashes" in box
    assert "Session 2 would be on Tue 12 Mar 2030, 14:30–15:20 in Room One" in box
    assert f"the room: course {world['busy']}, session 1 (14:00–14:50)" in box
    assert "Room Two" in box  # the free room suggested
    # what was typed is still there
    assert value(panel, "rs-date") == "2030-03-12" and value(panel, "rs-time") == "14:30"
    # one press moves it to the suggested free room instead
    assert "14:30 in Room Two" in text(panel)
    assert course(world) == before


def test_suggested_room_moves_it(desk_page, world):
    cid = world["course"]
    r = desk_page.post(f"/courses/{cid}/sessions/2/reschedule",
                       data={"date": "2030-03-12", "start_time": "14:30",
                             "room_id": str(world["room2"]), "scope": "this"})
    assert r.status_code == 303
    s = by_number(course(world))[2]
    assert (s["starts_at"], s["room_id"]) == ("2030-03-12T14:30:00+00:00", world["room2"])


@pytest.mark.parametrize("data, field, message", [
    ({"date": "2030-03-12", "start_time": "25:00"}, "rs-time", "Not a valid time"),
    ({"date": "2030-02-30", "start_time": "10:00"}, "rs-date", "Not a valid date"),
    ({"date": "", "start_time": "10:00"}, "rs-date", "Give the new date and start time."),
    ({"date": "2030-03-12", "start_time": "10:00", "scope": "all"}, "rs-scope", "Must be one of"),
])
def test_reschedule_form_errors_are_next_to_their_field(desk_page, world, data, field, message):
    before = course(world)
    r = desk_page.post(f"/courses/{world['course']}/sessions/2/reschedule", data=data)
    assert r.status_code == 422
    assert message in text(element(r.text, f"{field}-error"))
    if data["start_time"]:
        assert value(r.text, "rs-time") == data["start_time"]
    assert course(world) == before


def test_cancel_with_make_up_appends_a_session(desk_page, world):
    cid = world["course"]
    r = desk_page.post(f"/courses/{cid}/sessions/3/cancel",
                       data={"by": "client", "reason": "unwell", "make_up": "true"})
    assert r.status_code == 303
    c = course(world)
    s = by_number(c)
    assert s[3]["status"] == "cancelled_by_client" and s[3]["cancel_reason"] == "unwell"
    assert len(c["sessions"]) == 7
    assert s[7]["is_make_up"] and s[7]["makes_up"] == 3
    assert s[7]["starts_at"] == "2030-04-15T10:00:00+01:00"
    page = text(desk_page.get(r.location).text)
    assert "Session 3 cancelled by the client. Make-up session 7 added on Mon 15 Apr 2030" in page


def test_cancel_without_make_up(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/sessions/3/cancel",
                       data={"by": "practice", "reason": "", "make_up": "false"})
    assert r.status_code == 303
    c = course(world)
    assert len(c["sessions"]) == 6
    assert by_number(c)[3]["status"] == "cancelled_by_practice"


def test_cancel_needs_who_cancelled(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/sessions/3/cancel",
                       data={"by": "", "reason": "typed reason", "make_up": "true"})
    assert r.status_code == 422
    assert "Required." in text(element(r.text, "cx-by-error"))
    assert value(r.text, "cx-reason") == "typed reason"
    assert value(r.text, "cx-make-up") == "true"
    assert by_number(course(world))[3]["status"] == "scheduled"


def test_cancelling_a_cancelled_session_is_refused_with_its_rule(desk_page, world):
    url = f"/courses/{world['course']}/sessions/3/cancel"
    assert desk_page.post(url, data={"by": "client"}).status_code == 303
    r = desk_page.post(url, data={"by": "client", "reason": "again"})
    assert r.status_code == 422
    box = text(element(r.text, "refusal-cancel"))
    assert "session.not_scheduled" in box and "core" in box
    assert value(r.text, "cx-reason") == "again"


def test_attendance_before_the_session_has_started_is_refused(desk_page, world):
    before = course(world)
    r = desk_page.post(f"/courses/{world['course']}/sessions/1/attendance",
                       data={"status": "attended"})
    assert r.status_code == 422
    box = text(element(r.text, "refusal-attendance"))
    assert "Session 1 has not started yet." in box
    assert "attendance.not_started" in box
    assert course(world) == before


def test_attendance_of_a_past_session(desk_page, world):
    cid = world["past"]
    page = desk_page.get(f"/courses/{cid}?session=1").text
    assert has_id(page, "act-attendance") and 'value="no_show"' in page
    r = desk_page.post(f"/courses/{cid}/sessions/1/attendance", data={"status": "attended"})
    assert r.status_code == 303
    r = desk_page.post(f"/courses/{cid}/sessions/2/attendance",
                       data={"status": "no_show", "make_up": ""})
    assert r.status_code == 303
    s = by_number(course(world, cid))
    assert s[1]["status"] == "attended" and s[2]["status"] == "no_show"
    assert s[1]["attendance"] == [{"client_id": world["bo"], "status": "attended"}]
    assert "Session 2: no-show recorded." in text(desk_page.get(r.location).text)


def test_extend_adds_sessions(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/extend", data={"sessions": "2", "reason": ""})
    assert r.status_code == 303
    assert r.location == f"/courses/{world['course']}#main"
    c = course(world)
    assert c["planned_sessions"] == 8 and len(c["sessions"]) == 8
    assert "2 sessions added (numbers 7, 8); the course now plans 8." in text(
        desk_page.get(r.location).text)


def test_extend_with_a_bad_number_keeps_it(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/extend",
                       data={"sessions": "two", "reason": "asked for more"})
    assert r.status_code == 422
    assert element(r.text, "act-extend").startswith('<details id="act-extend" open')
    assert "Enter a whole number." in text(element(r.text, "ex-sessions-error"))
    assert value(r.text, "ex-sessions") == "two"
    assert value(r.text, "ex-reason") == "asked for more"
    assert course(world)["planned_sessions"] == 6


def test_close_ends_the_course_and_cancels_the_rest(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/close",
                       data={"outcome": "moved away", "reason": "relocating"})
    assert r.status_code == 303
    c = course(world)
    assert c["status"] == "ended_early" and c["outcome"] == "moved away"
    assert {s["status"] for s in c["sessions"]} == {"cancelled_by_practice"}
    page = desk_page.get(r.location).text
    assert "Course closed: Ended early." in text(page)
    assert not has_id(page, "act-close")  # nothing left to close
    # a closed course refuses a move, named by its rule, next to the form
    r = desk_page.post(f"/courses/{world['course']}/sessions/2/reschedule",
                       data={"date": "2030-03-13", "start_time": "15:00"})
    assert r.status_code == 422
    assert "course.not_active" in text(element(r.text, "refusal-reschedule"))


def test_the_address_of_an_action_leads_back_to_the_course(desk_page, world):
    r = desk_page.get(f"/courses/{world['course']}/sessions/2/reschedule")
    assert r.status_code == 302
    assert r.location == f"/courses/{world['course']}?session=2#session-panel"


# -- who may see what, bad addresses -------------------------------------------
def test_clinician_cannot_open_another_clinicians_course(client, world):
    sign_in(client, "okafor@test.example")
    r = client.get(f"/courses/{world['past']}")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "Page not found" in r.text and "Bo Sample" not in r.text
    r = client.post(f"/courses/{world['past']}/sessions/1/attendance", data={"status": "attended"})
    assert r.status_code == 404
    assert by_number(course(world, world["past"]))[1]["status"] == "scheduled"
    # their own course, with its actions
    r = client.get(f"/courses/{world['course']}?session=2")
    assert r.status_code == 200 and has_id(r.text, "act-reschedule")


def test_clinician_moves_their_own_session(client, world):
    sign_in(client, "okafor@test.example")
    r = client.post(f"/courses/{world['course']}/sessions/2/reschedule",
                    data={"date": "2030-03-11", "start_time": "12:00"})
    assert r.status_code == 303
    assert by_number(course(world))[2]["starts_at"] == "2030-03-11T12:00:00+00:00"


@pytest.mark.parametrize("method, path", [
    ("get", "/courses/0"), ("get", "/courses/-1"), ("get", "/courses/99999999999"),
    ("get", "/courses/abc"), ("get", "/courses/{cid}/sessions/99/cancel"),
    ("post", "/courses/{cid}/sessions/0/reschedule"), ("post", "/courses/{cid}/sessions/99/cancel"),
    ("post", "/courses/99999999999/extend"), ("post", "/courses/0/close"),
    ("post", "/courses/{cid}/sessions/99999999999/attendance"),
])
def test_bad_ids_are_the_404_page(desk_page, world, method, path):
    r = getattr(desk_page, method)(path.format(cid=world["course"]), data={"by": "client"})
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "Page not found" in r.text


def test_names_are_html_escaped(make_client, desk_page, world):
    evil = make_client("<script>alert(1)</script>")
    r = world["api"].post("/api/courses", json={
        "clinician_id": world["okafor"], "room_id": world["room2"], "client_ids": [evil],
        "first_date": "2031-01-06", "start_time": "09:00", "duration_minutes": 50,
        "session_count": 2})
    assert r.status_code == 201
    for page in (desk_page.get(f"/courses/{r.json['id']}").text, desk_page.get("/courses").text):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_after_a_refusal_the_focus_goes_to_what_explains_it(desk_page, world):
    r = desk_page.post(f"/courses/{world['course']}/sessions/2/reschedule",
                       data={"date": "2030-03-12", "start_time": "14:30"})
    assert r.text.count("autofocus") == 1
    assert "autofocus" in element(r.text, "refusal-reschedule").split(">")[0]
    r = desk_page.post(f"/courses/{world['course']}/extend", data={"sessions": "x"})
    assert r.text.count("autofocus") == 1 and "autofocus" in element(r.text, "ex-sessions")
    assert "autofocus" not in desk_page.get(f"/courses/{world['course']}?session=2").text


def test_attendance_without_a_status_is_named_in_the_form(desk_page, world):
    r = desk_page.post(f"/courses/{world['past']}/sessions/1/attendance", data={"status": "late"})
    assert r.status_code == 422
    note = element(r.text, "errors-attendance")
    assert "Must be one of" in text(note) and "autofocus" in note
    assert by_number(course(world, world["past"]))[1]["status"] == "scheduled"


def test_check_first_shows_where_the_sessions_would_go_and_writes_nothing(desk_page, world):
    before = course(world)
    r = desk_page.post(f"/courses/{world['course']}/sessions/4/reschedule",
                       data={"date": "2030-03-26", "start_time": "11:00", "scope": "following",
                             "dry_run": "true"})
    assert r.status_code == 200
    ok = text(element(r.text, "preview-ok"))
    assert "Checked: nothing clashes." in ok
    assert "Session 4: Tue 26 Mar 2030, 11:00–11:50" in ok
    assert "Session 6: Tue 9 Apr 2030, 11:00–11:50" in ok
    assert "autofocus" in element(r.text, "preview-ok").split(">")[0]
    assert checked(r.text, "rs-scope-2") and value(r.text, "rs-time") == "11:00"
    assert course(world) == before


def test_check_first_on_a_busy_time_shows_the_clash(desk_page, world):
    before = course(world)
    r = desk_page.post(f"/courses/{world['course']}/sessions/2/reschedule",
                       data={"date": "2030-03-12", "start_time": "14:00", "dry_run": "true"})
    assert r.status_code == 200
    box = text(element(r.text, "refusal-reschedule"))
    assert "Checked: this move would be refused. Nothing was changed." in box
    assert f"the room: course {world['busy']}, session 1" in box
    assert not has_id(r.text, "preview-ok")
    assert course(world) == before


def test_flags_shown_are_those_this_user_may_see_and_the_read_is_audited(app, client, world,
                                                                         api_as):
    from practice.models import CourseFlag

    with app.app_context():
        db.session.add_all([
            CourseFlag(course_id=world["course"], code="demo.check_in", plugin="demo",
                       severity="warning", audience="all", message="Check in with the GP"),
            CourseFlag(course_id=world["course"], code="demo.private", plugin="demo",
                       severity="high", audience="clinician", message="For the clinician only"),
        ])
        db.session.commit()
    sign_in(client, "desk@test.example")
    flags = text(element(client.get(f"/courses/{world['course']}").text, "main"))
    assert "Check in with the GP" in flags and "demo.check_in" in flags
    assert "For the clinician only" not in flags
    rows = api_as("admin").get("/api/audit", query_string={
        "object_type": "course_flags", "object_id": world["course"]}).json["items"]
    assert [r["action"] for r in rows] == ["view"] and len(rows[0]["details"]["flag_ids"]) == 1
    client.post("/sign-out")
    sign_in(client, "okafor@test.example")
    flags = text(element(client.get(f"/courses/{world['course']}").text, "main"))
    assert "Check in with the GP" in flags and "For the clinician only" in flags


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_clinician_sees_another_clinicians_clash_only_as_busy(client, world, dry_run):
    """SPEC section 6: never another clinician's course or session, checked or refused."""
    sign_in(client, "okafor@test.example")
    before = course(world)
    data = {"date": "2030-03-12", "start_time": "14:00"}
    if dry_run:
        data["dry_run"] = "true"
    r = client.post(f"/courses/{world['course']}/sessions/2/reschedule", data=data)
    assert r.status_code == (200 if dry_run else 409)
    box = text(element(r.text, "refusal-reschedule"))
    assert "the room is busy (14:00–14:50)" in box
    assert f"course {world['busy']}" not in box
    assert f'/courses/{world["busy"]}"' not in r.text
    assert course(world) == before
