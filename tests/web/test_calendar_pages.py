"""The calendar page (server side): sign-in, columns per role, the state in the
query string, bad query values, and the list of sessions under the calendar."""
from __future__ import annotations

import json
import re

import pytest

from practice.extensions import db
from practice.models import Site

PASSWORD = "correct horse battery"
MONDAY = "2030-03-04"


def sign_in(client, email):
    r = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.text
    return client


def config(r) -> dict:
    m = re.search(r'<script type="application/json" id="calendar-data">(.*?)</script>', r.text,
                  re.S)
    assert m, "the page carries its columns as JSON"
    return json.loads(m.group(1))


def rows(r) -> list[list[str]]:
    """The list's rows as cell texts (tags stripped)."""
    body = r.text.split('id="session-list"', 1)[-1]
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td>(.*?)</td>", tr, re.S)
        if cells:
            out.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return out


@pytest.fixture
def practice(app, make_clinician, make_room, make_client, make_user, api_as):
    """Two sites, a room at each, two clinicians (Okafor signs in as a
    clinician), three clients and two courses in the week of 4 March 2030."""
    with app.app_context():
        north, south = Site(name="North"), Site(name="South")
        db.session.add_all([north, south])
        db.session.commit()
        sites = {"north": north.id, "south": south.id}
    ids = {
        "okafor": make_clinician("Dr Ada Okafor"), "lind": make_clinician("Dr Ben Lindqvist"),
        "room_n": make_room("North Room", site_id=sites["north"], capacity=2),
        "room_s": make_room("South Room", site_id=sites["south"]),
        "ann": make_client("Ann Example"), "bo": make_client("Bo Sample"),
        "cy": make_client("Cy Person"), **sites,
    }
    make_user("front_desk", email="desk@test.example")
    make_user("admin", email="admin@test.example")
    make_user("clinician", clinician_id=ids["okafor"], email="okafor@test.example")
    desk = api_as("front_desk")

    def book(clinician, room, clients, start_time, count=4):
        r = desk.post("/api/courses", json={
            "clinician_id": clinician, "room_id": room, "client_ids": clients,
            "first_date": MONDAY, "start_time": start_time, "duration_minutes": 50,
            "session_count": count})
        assert r.status_code == 201, r.json
        return r.json["id"]

    ids["course_o"] = book(ids["okafor"], ids["room_n"], [ids["ann"], ids["bo"]], "10:00", 12)
    ids["course_l"] = book(ids["lind"], ids["room_s"], [ids["cy"]], "11:00", 6)
    return ids


def test_signed_out_visit_goes_to_sign_in_and_back(client, practice):
    r = client.get("/calendar?view=week&by=room&date=2030-03-06")
    assert r.status_code == 302
    assert r.location == "/sign-in?next=/calendar?view%3Dweek%26by%3Droom%26date%3D2030-03-06"
    r = client.post("/sign-in", data={"email": "desk@test.example", "password": PASSWORD,
                                      "next": "/calendar?view=week&by=room&date=2030-03-06"})
    assert r.location == "/calendar?view=week&by=room&date=2030-03-06"


def test_front_desk_gets_every_clinician_as_a_column(client, practice):
    sign_in(client, "desk@test.example")
    r = client.get(f"/calendar?view=day&by=clinician&date={MONDAY}")
    assert r.status_code == 200
    cfg = config(r)
    assert cfg["resources"] == [{"id": practice["okafor"], "title": "Dr Ada Okafor"},
                                {"id": practice["lind"], "title": "Dr Ben Lindqvist"}]
    assert cfg["view"] == "day" and cfg["by"] == "clinician"
    assert cfg["from"] == cfg["to"] == MONDAY
    assert cfg["editable"] is True and cfg["show_names"] is True
    assert cfg["events_url"] == f"/api/sessions?from={MONDAY}&to={MONDAY}"
    # the page asks for its events as it loads: the same URL, preloaded
    assert f'<link rel="preload" href="/api/sessions?from={MONDAY}&amp;to={MONDAY}"' in r.text


def test_by_room_lists_rooms_with_their_site_and_the_site_filter_narrows_them(client, practice):
    sign_in(client, "desk@test.example")
    cfg = config(client.get(f"/calendar?view=week&by=room&date={MONDAY}"))
    assert [r["title"] for r in cfg["resources"]] == ["North Room · North", "South Room · South"]
    r = client.get(f"/calendar?view=week&by=room&date={MONDAY}&site_id={practice['south']}")
    cfg = config(r)
    assert cfg["resources"] == [{"id": practice["room_s"], "title": "South Room"}]
    assert cfg["site_id"] == practice["south"]
    assert cfg["events_url"].endswith(f"&site_id={practice['south']}")
    # the list has only that site's session too
    assert [row[2] for row in rows(r)] == ["South Room"]


def test_clinician_sees_only_their_own_column_and_sessions(client, practice):
    sign_in(client, "okafor@test.example")
    r = client.get(f"/calendar?date={MONDAY}")
    assert r.status_code == 200
    cfg = config(r)
    assert cfg["view"] == "week"  # a clinician's default: my week
    assert cfg["resources"] == [{"id": practice["okafor"], "title": "Dr Ada Okafor"}]
    assert cfg["editable"] is False and cfg["show_names"] is False
    assert "Lindqvist" not in json.dumps(cfg["resources"])
    listed = rows(r)
    assert [row[1] for row in listed] == ["Dr Ada Okafor"]
    assert "CP" not in r.text.split('id="session-list"', 1)[1]  # the other clinician's client


def test_the_list_shows_time_k_of_n_and_initials_never_a_name(client, practice):
    sign_in(client, "desk@test.example")
    r = client.get(f"/calendar?view=week&by=clinician&date=2030-03-06")
    assert r.status_code == 200
    assert rows(r) == [
        ["10:00–10:50", "Dr Ada Okafor", "North Room North", "1/12", "AE BS", "scheduled"],
        ["11:00–11:50", "Dr Ben Lindqvist", "South Room South", "1/6", "CP", "scheduled"],
    ]
    # a week is Monday to Sunday, every day with its own caption
    captions = re.findall(r"<caption>(.*?)</caption>", r.text)
    assert captions[0] == "Monday 4 March 2030"
    assert captions[-1] == "Sunday 10 March 2030: no sessions"
    assert len(captions) == 7
    # each row links to its course, the keyboard way to reschedule
    assert f'href="/courses/{practice["course_o"]}"' in r.text
    for name in ("Ann Example", "Bo Sample", "Cy Person"):
        assert name not in r.text


def test_second_week_counts_on(client, practice):
    sign_in(client, "desk@test.example")
    r = client.get("/calendar?view=day&by=room&date=2030-03-11")
    assert [row[3] for row in rows(r)] == ["2/12", "2/6"]


def test_navigation_links_keep_the_state(client, practice):
    sign_in(client, "desk@test.example")
    r = client.get(f"/calendar?view=week&by=room&date=2030-03-06&site_id={practice['north']}")
    site = practice["north"]
    for day in ("2030-02-27", "2030-03-13"):  # the week before and after
        assert f'href="/calendar?view=week&amp;by=room&amp;date={day}&amp;site_id={site}"' in r.text
    assert f'href="/calendar?view=day&amp;by=room&amp;date=2030-03-06&amp;site_id={site}"' in r.text
    assert f'href="/calendar?view=week&amp;by=clinician&amp;date=2030-03-06&amp;site_id={site}"' \
        in r.text
    assert "Week of 4–10 March 2030" in r.text


@pytest.mark.parametrize("query, message", [
    ("view=month", "There is no “month” view"),
    ("by=desk", "not by “desk”"),
    ("date=2030-02-30", "“2030-02-30” is not a date"),
    ("date=yesterday", "“yesterday” is not a date"),
    ("date=1999-12-31", "The calendar covers 3 January 2000 to 24 December 2199"),
    ("date=2000-01-01", "The calendar covers 3 January 2000"),
    ("date=99999-01-01", "is not a date"),
    ("site_id=abc", "There is no site “abc”"),
    ("site_id=-1", "There is no site “-1”"),
    ("site_id=99999999999999999999", "There is no site"),
    ("view=&by=&date=&site_id=", None),
])
def test_bad_query_values_give_a_clear_page(client, practice, query, message):
    sign_in(client, "desk@test.example")
    r = client.get(f"/calendar?{query}")
    assert r.mimetype == "text/html"
    if message is None:
        assert r.status_code == 200
        return
    assert r.status_code == 400
    assert message in r.text
    assert 'role="alert"' in r.text
    assert config(r)["resources"]  # still a calendar, at the defaults


def test_clinician_without_a_linked_clinician_gets_an_explanation(client, make_user):
    make_user("clinician", clinician_id=None, email="nobody@test.example")
    with client.application.app_context():
        from practice.models import User

        user = db.session.scalar(db.select(User).where(User.email == "nobody@test.example"))
        user.clinician_id = None
        db.session.commit()
    sign_in(client, "nobody@test.example")
    r = client.get("/calendar")
    assert r.status_code == 200
    assert config(r)["resources"] == []
    assert "not linked to a clinician" in r.text


def test_a_wide_week_sends_its_list_on_request(client, practice, make_clinician):
    """Many columns: the page links to the list (htmx opens it in place)
    instead of carrying a thousand rows; the list page has the same rows."""
    for i in range(2):
        make_clinician(f"Dr Extra {i}")  # 4 clinicians x 7 days > 24 column-days
    sign_in(client, "desk@test.example")
    r = client.get(f"/calendar?view=week&by=clinician&date={MONDAY}")
    assert r.status_code == 200
    assert rows(r) == []
    link = f"/calendar/list?view=week&amp;by=clinician&amp;date={MONDAY}"
    assert f'hx-get="{link}"' in r.text and f'href="{link}"' in r.text

    page = client.get(f"/calendar/list?view=week&by=clinician&date={MONDAY}")
    assert page.status_code == 200 and "<html" in page.text
    assert "Back to the calendar" in page.text
    listed = rows(page)
    assert [row[3] for row in listed] == ["1/12", "1/6"]
    part = client.get(f"/calendar/list?view=week&by=clinician&date={MONDAY}",
                      headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert "2 sessions." in part.text


def test_list_page_takes_the_same_bad_values(client, practice):
    sign_in(client, "okafor@test.example")
    r = client.get("/calendar/list?date=nope&site_id=x")
    assert r.status_code == 400 and "“nope” is not a date" in r.text
    assert "Lindqvist" not in r.text
