"""Closure pages (server side): the list, add (whole practice or one site),
duplicates and bad dates next to the field, remove after confirming."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from practice.extensions import db
from practice.models import Site

from .page_html import element, text, value

PASSWORD = "correct horse battery"


def sign_in(client, email):
    r = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.text
    return client


@pytest.fixture
def world(app, make_user, make_clinician, api_as):
    with app.app_context():
        north, south = Site(name="North"), Site(name="South")
        db.session.add_all([north, south])
        db.session.commit()
        ids = {"north": north.id, "south": south.id}
    make_user("front_desk", email="desk@test.example")
    make_user("clinician", clinician_id=make_clinician(), email="doc@test.example")
    ids["api"] = api_as("front_desk")
    return ids


@pytest.fixture
def desk_page(client, world):
    return sign_in(client, "desk@test.example")


def closures(world) -> list[tuple[str, int | None, str]]:
    items = world["api"].get("/api/closures").json["items"]
    return [(c["date"], c["site_id"], c["reason"]) for c in items]


def future(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_add_for_the_whole_practice_and_for_one_site(desk_page, world):
    r = desk_page.post("/closures", data={"date": future(30), "reason": "Bank holiday",
                                          "site_id": ""})
    assert r.status_code == 303 and r.location == "/closures"
    r = desk_page.post("/closures", data={"date": future(10), "reason": "Boiler repair",
                                          "site_id": str(world["north"])})
    assert r.status_code == 303
    assert sorted(closures(world)) == [(future(10), world["north"], "Boiler repair"),
                                       (future(30), None, "Bank holiday")]
    page = desk_page.get("/closures").text
    assert "Closure added:" in page and "(North)" in text(page)
    upcoming = text(element(page, "upcoming"))
    # upcoming first, soonest first, with the site or "whole practice"
    assert upcoming.index("North Boiler repair") < upcoming.index("Whole practice Bank holiday")


def test_past_closures_come_after_the_upcoming_ones(desk_page, world):
    world["api"].post("/api/closures", json={"date": "2020-12-25", "reason": "Long ago"})
    world["api"].post("/api/closures", json={"date": future(5), "reason": "Soon"})
    page = desk_page.get("/closures").text
    assert "Soon" in text(element(page, "upcoming")) and "Long ago" not in text(
        element(page, "upcoming"))
    assert "Long ago" in text(element(page, "past"))


def test_a_duplicate_is_refused_next_to_the_date(desk_page, world):
    day = future(20)
    assert desk_page.post("/closures", data={"date": day, "reason": "first"}).status_code == 303
    r = desk_page.post("/closures", data={"date": day, "reason": "again", "site_id": ""})
    assert r.status_code == 422
    assert "already closes the practice" in text(element(r.text, "e-date"))
    assert "autofocus" in element(r.text, "f-date")
    assert value(r.text, "f-reason") == "again" and value(r.text, "f-date") == day
    # one site twice
    other = future(21)
    south = {"date": other, "reason": "Boiler", "site_id": str(world["south"])}
    assert desk_page.post("/closures", data=south).status_code == 303
    r = desk_page.post("/closures", data=south)
    assert r.status_code == 422
    assert "already closes this site" in text(element(r.text, "e-date"))
    assert value(r.text, "f-site_id") == str(world["south"])
    # the other site that day is another closure
    north = dict(south, site_id=str(world["north"]))
    assert desk_page.post("/closures", data=north).status_code == 303
    assert len(closures(world)) == 3


def test_a_reason_is_asked_for(desk_page, world):
    r = desk_page.post("/closures", data={"date": future(4), "reason": "   ", "site_id": ""})
    assert r.status_code == 422
    assert "Required." in text(element(r.text, "e-reason"))
    assert "autofocus" in element(r.text, "f-reason")
    assert value(r.text, "f-date") == future(4)
    assert closures(world) == []


@pytest.mark.parametrize("day, message", [
    ("2030-02-30", "Not a valid date"), ("30/01/2030", "Not a valid date"), ("", "Required."),
])
def test_a_bad_date_is_named_next_to_the_field(desk_page, world, day, message):
    r = desk_page.post("/closures", data={"date": day, "reason": "kept", "site_id": ""})
    assert r.status_code == 422
    assert message in text(element(r.text, "e-date"))
    assert value(r.text, "f-reason") == "kept"
    assert closures(world) == []


def test_an_unknown_site_is_named_never_a_500(desk_page, world):
    for site in ("99999", "abc", "-1", "99999999999"):
        r = desk_page.post("/closures", data={"date": future(3), "site_id": site,
                                              "reason": "Works"})
        assert r.status_code == 422, site
        assert 'aria-invalid="true"' in element(r.text, "f-site_id")
    assert closures(world) == []


def test_remove_asks_first(desk_page, world):
    cid = world["api"].post("/api/closures", json={"date": future(7), "reason": "Training"}
                            ).json["id"]
    page = desk_page.get("/closures").text
    assert f'href="/closures/{cid}/remove"' in page
    r = desk_page.get(f"/closures/{cid}/remove")
    assert r.status_code == 200
    assert "Remove this closure?" in r.text and "Training" in r.text
    assert len(closures(world)) == 1  # asking removes nothing
    r = desk_page.post(f"/closures/{cid}/remove")
    assert r.status_code == 303 and r.location == "/closures"
    assert closures(world) == []
    assert "Closure removed:" in desk_page.get("/closures").text
    assert desk_page.post(f"/closures/{cid}/remove").status_code == 404


def test_adding_on_a_booked_day_says_the_sessions_stay(desk_page, world, make_room,
                                                       make_client):
    api = world["api"]
    doc = api.get("/api/clinicians").json["items"][0]["id"]
    r = api.post("/api/courses", json={
        "clinician_id": doc, "room_id": make_room(site_id=world["north"]),
        "client_ids": [make_client()], "first_date": "2030-03-04", "start_time": "10:00",
        "duration_minutes": 50, "session_count": 1})
    assert r.status_code == 201
    desk_page.post("/closures", data={"date": "2030-03-04", "site_id": str(world["south"]),
                                      "reason": "Works"})
    assert "already booked that day" not in desk_page.get("/closures").text
    desk_page.post("/closures", data={"date": "2030-03-04", "site_id": str(world["north"]),
                                      "reason": "Works"})
    assert "1 session is already booked that day" in desk_page.get("/closures").text


@pytest.mark.parametrize("path", ["/closures/0/remove", "/closures/-1/remove",
                                  "/closures/99999999999/remove", "/closures/x/remove"])
def test_bad_ids_are_the_404_page(desk_page, world, path):
    r = desk_page.get(path)
    assert r.status_code == 404 and r.mimetype == "text/html"


def test_clinician_has_no_closure_pages(client, world):
    sign_in(client, "doc@test.example")
    assert client.get("/closures").status_code == 403
    assert client.post("/closures", data={"date": future(3), "reason": "x"}).status_code == 403
    assert closures(world) == []


def test_reason_is_html_escaped(desk_page, world):
    desk_page.post("/closures", data={"date": future(9), "reason": "<b>x</b>"})
    page = desk_page.get("/closures").text
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
