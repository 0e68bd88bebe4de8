"""The booking page (server side, no script): find, pick, preview and book in
plain forms and links; conflicts shown before saving; a refused form keeps
what was typed; the role guard and the CSRF check."""
from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from practice import create_app
from practice.extensions import db
from practice.models import Client, Course, TherapySession

from .page_html import element, has_id, text, value

PASSWORD = "correct horse battery"
TUE = date(2030, 3, 5)


def sign_in(client, email):
    r = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.text
    return client


@pytest.fixture
def world(make_clinician, make_room, make_client, make_user):
    ids = {"okafor": make_clinician("Dr Ada Okafor", hours=[(1, time(10), time(12))]),
           "room": make_room("Room One"),
           "ann": make_client("Ann Lovelace", date_of_birth=date(1980, 1, 31)),
           "bo": make_client("Bo Lovell")}
    make_user("front_desk", email="desk@test.example")
    make_user("clinician", clinician_id=ids["okafor"], email="okafor@test.example")
    return ids


@pytest.fixture
def desk(client, world):
    return sign_in(client, "desk@test.example")


def find_url(world, **extra) -> str:
    q = {"client_ids": world["ann"], "clinician": world["okafor"], "session_count": 4,
         "duration_minutes": 60, "from": TUE.isoformat(), "find": 1, **extra}
    return "/book?" + "&".join(f"{k}={v}" for k, v in q.items())


def picks(fragment: str) -> list[str]:
    """The values of the pick buttons (clinician,room,date,time)."""
    return [html.unescape(v) for v in re.findall(r'name="pick" value="([^"]+)"', fragment)]


def pick_query(page: str, pick: str) -> MultiDict:
    """What the pick form sends when that button is pressed."""
    return MultiDict(hidden_inputs(element(page, "pick-form")) + [("pick", pick)])


def hidden_inputs(fragment: str) -> list[tuple[str, str]]:
    return [(html.unescape(n), html.unescape(v)) for n, v in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', fragment)]


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def test_the_plain_flow_find_pick_preview_book(app, desk, world):
    r = desk.get("/book")
    assert r.status_code == 200
    assert value(r.text, "f-modality") == "general" and value(r.text, "f-session_count") == "12"
    r = desk.get(find_url(world))
    assert r.status_code == 200, text(r.text)[:2000]
    grid = element(r.text, "slot-grid")
    assert text(grid).count("4/4") == 3  # 10:00, 10:30 and 11:00 on Tuesdays
    assert has_id(r.text, "ranked")
    cell = picks(grid)[0]
    assert cell == f"{world['okafor']},{world['room']},{TUE.isoformat()},10:00"
    assert 'action="/book#preview-h"' in element(r.text, "pick-form")
    r = desk.get("/book", query_string=pick_query(r.text, cell))
    assert r.status_code == 200
    preview = element(r.text, "preview")
    assert "Nothing stands in the way" in text(preview)
    assert text(preview).count("Tue ") >= 4 and "Room One" in preview
    form = element(r.text, "book-form")
    data = hidden_inputs(form)
    assert ("client_ids", str(world["ann"])) in data and ("pick_time", "10:00") in data
    r = desk.post("/book", data=MultiDict(data))
    assert r.status_code == 303, text(r.text)[:2000]
    course_id = int(r.location.rsplit("/", 1)[1])
    with desk.application.app_context():
        course = db.session.get(Course, course_id)
        assert course.planned_sessions == 4 and course.clinician_id == world["okafor"]
        assert len(course.sessions) == 4 and course.first_date == TUE
    r = desk.get(r.location)
    assert "booked: 4 sessions" in r.text


def test_a_clashing_series_shows_its_conflicts_and_writes_nothing(app, desk, world, api_as):
    api = api_as("front_desk")
    r = api.post("/api/courses", json={
        "client_ids": [world["ann"]], "clinician_id": world["okafor"], "room_id": world["room"],
        "first_date": (TUE + timedelta(weeks=2)).isoformat(), "start_time": "10:00",
        "duration_minutes": 60, "session_count": 1})
    assert r.status_code == 201
    before = count(app, TherapySession)
    r = desk.get(find_url(world))
    grid = text(element(r.text, "slot-grid"))
    assert "3/4 not possible" in grid  # 10:00 and 10:30 clash in week 3
    pick = [v for v in picks(element(r.text, "slot-grid")) if v.endswith(",10:00")][0]
    query = pick_query(r.text, pick)
    r = desk.get("/book", query_string=query)
    preview = text(element(r.text, "preview"))
    assert "cannot be booked" in preview and "Session 3" in preview
    assert "the clinician is booked" in preview and f"client {world['ann']} has a session" in preview
    assert not has_id(r.text, "book-form")
    # Posting it anyway is refused (409), next to the Book button, with everything kept.
    r = desk.post("/book", data=query)
    assert r.status_code == 409
    refusal = text(element(r.text, "refusal"))
    assert "Not booked" in refusal and "Session 3" in refusal
    assert value(r.text, "f-session_count") == "4" and "Ann Lovelace" in r.text
    assert count(app, TherapySession) == before


def test_a_refused_form_keeps_what_was_typed(desk, world):
    r = desk.get(find_url(world, session_count=0, earliest="10:30", duration_minutes=60,
                          client_ids=f"{world['ann']}&client_ids={world['bo']}"))
    assert r.status_code == 422
    assert "f-session_count" in element(r.text, "errors-h") or has_id(r.text, "e-session_count")
    assert 'aria-invalid="true"' in element(r.text, "f-session_count")
    assert value(r.text, "f-session_count") == "0"
    assert value(r.text, "f-earliest") == "10:30"
    assert value(r.text, "f-clinician") == str(world["okafor"])
    assert "Ann Lovelace" in r.text and "Bo Lovell" in r.text
    assert not has_id(r.text, "slot-grid")
    # A modality's bounds are its plugin's rule, named next to the field.
    r = desk.get(find_url(world, modality="general", duration_minutes=5))
    assert r.status_code == 422 and has_id(r.text, "e-duration_minutes")


@pytest.mark.parametrize("query", [
    "from=2000-13-01&find=1", "from=1999-12-31&find=1", "from=2200-01-01&find=1",
    "session_count=105&find=1", "session_count=abc&find=1", "clinician=999999&find=1",
    "clinician=abc&find=1", "client_ids=abc&find=1", "client_ids=99999999999&find=1",
    "modality=nope&find=1", "step=7&find=1", "weekday=9&find=1", "earliest=25:00&find=1",
    "earliest=12:00&latest=11:00&find=1",
    "pick_clinician=1&pick_room=99999999999&pick_date=2030-02-30&pick_time=10:00",
    "pick_clinician=x&pick_room=y&pick_date=z&pick_time=w", "pick=1,2", "pick=a,b,c,d",
    "pick=1,1,2030-03-05,25:00", "pick=,,,",
])
def test_bad_input_is_a_clear_message_never_a_500(desk, world, query):
    r = desk.get("/book?" + query)
    assert r.status_code in (200, 404, 422), r.status_code
    assert "Book a course" in r.text
    if r.status_code == 422:
        assert has_id(r.text, "errors-h")


def test_search_and_add_keep_names_out_of_the_address(desk, world):
    r = desk.post("/book/clients", data={"q": "love", "session_count": "16"})
    assert r.status_code == 200
    results = text(element(r.text, "client-results"))
    assert "Ann Lovelace" in results and "Bo Lovell" in results and "31 Jan 1980" in results
    assert value(r.text, "f-session_count") == "16"  # the choices come along
    fragment = desk.post("/book/clients", data={"q": "1980-01-31"}, headers={"HX-Request": "1"})
    assert "Ann Lovelace" in fragment.text and "Bo Lovell" not in fragment.text
    assert "<html" not in fragment.text
    r = desk.post("/book/clients", data={"add_client": world["ann"], "session_count": "16"})
    assert r.status_code == 303
    assert r.location.startswith("/book?") and "Ann" not in r.location
    assert f"client_ids={world['ann']}" in r.location and "session_count=16" in r.location
    r = desk.get(r.location.split("#")[0])
    assert "Ann Lovelace" in element(r.text, "clients-h").join([""]) or "Ann Lovelace" in r.text
    # Removing, and the chosen client no longer offered by the search.
    r = desk.get(f"/book?client_ids={world['ann']}&remove_client={world['ann']}")
    assert "No client chosen yet" in r.text
    r = desk.post("/book/clients", data={"q": "love", "client_ids": world["ann"]},
                  headers={"HX-Request": "1"})
    assert "Ann Lovelace" not in r.text and "Bo Lovell" in r.text


def test_a_new_client_inline(app, desk, world):
    r = desk.post("/book/clients/new", data={"name": "Cy Turing", "email": "nope",
                                             "client_ids": world["ann"], "session_count": "9"})
    assert r.status_code == 422
    assert has_id(r.text, "e-email")
    assert value(r.text, "f-name") == "Cy Turing" and value(r.text, "f-email") == "nope"
    assert value(r.text, "f-session_count") == "9" and "Ann Lovelace" in r.text
    assert " open" in element(r.text, "new-client-h").join([""]) or "details class=\"new-client\" open" in r.text
    r = desk.post("/book/clients/new", data={"name": "Cy Turing", "date_of_birth": "1990-02-03",
                                             "client_ids": world["ann"]})
    assert r.status_code == 303
    with app.app_context():
        cy = db.session.query(Client).filter_by(name="Cy Turing").one()
    assert f"client_ids={world['ann']}&client_ids={cy.id}" in r.location
    assert "Cy" not in r.location


def test_a_clinician_may_not_book(client, world):
    sign_in(client, "okafor@test.example")
    assert client.get("/book").status_code == 403
    assert client.post("/book", data={}).status_code == 403
    assert client.post("/book/clients", data={"q": "Ann"}).status_code == 403


@pytest.fixture
def csrf_app(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(page: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def test_a_booking_without_its_csrf_token_is_refused_and_writes_nothing(csrf_app, world):
    desk = csrf_app.test_client()
    token = _token(desk.get("/sign-in").text)
    r = desk.post("/sign-in", data={"email": "desk@test.example", "password": PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 302
    page = desk.get(find_url(world, pick_clinician=world["okafor"], pick_room=world["room"],
                             pick_date=TUE.isoformat(), pick_time="10:00")).text
    data = hidden_inputs(element(page, "book-form"))
    without = [(k, v) for k, v in data if k != "csrf_token"]
    r = desk.post("/book", data=MultiDict(without))
    assert r.status_code == 400 and "security token" in r.text
    assert count(csrf_app, Course) == 0
    r = desk.post("/book/clients/new", data={"name": "No Token"})
    assert r.status_code == 400 and count(csrf_app, Client) == 2
    r = desk.post("/book", data=MultiDict(data))  # the same form with its token books
    assert r.status_code == 303 and count(csrf_app, Course) == 1
