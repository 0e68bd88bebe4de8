"""The booking page in Chromium: a 16-week series found in the grid and
booked with the keyboard alone, then seen in the clinician's week; a
clashing series shows its conflicts and writes nothing; a refused form keeps
what was typed; a form without its CSRF token changes nothing; axe-core on
every state, and screenshots at 1280 and 390 px.

The tests make their own clients and book with Dr Farah Haddad and Dr Eva
Mensah some forty weeks ahead (past the demo's courses and the other
browser tests' weeks).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest

ZONE = ZoneInfo("Europe/London")
WEEKS_AHEAD = 40


def monday_ahead(weeks: int) -> date:
    today = datetime.now(ZONE).date()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


def new_client(api, label: str) -> dict:
    r = api("front_desk").post("/api/clients", json={
        "name": f"{label} Booktest{uuid.uuid4().hex[:5]}", "date_of_birth": "1990-04-02"})
    assert r.status_code == 201, r.text
    return r.json()


def clinician(api, name: str) -> dict:
    items = api("front_desk").get("/api/clinicians", params={"limit": 100}).json()["items"]
    return next(c for c in items if c["name"] == name)


def courses_of(api, client_id: int) -> list[dict]:
    r = api("front_desk").get("/api/courses", params={"client_id": client_id})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def focused(page, js: str = "el => el.id"):
    return page.evaluate(f"({js})(document.activeElement)")


def tab_to(page, predicate_js: str, limit: int = 400) -> None:
    """Press Tab until ``predicate_js`` (a function of the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => ({predicate_js})(el))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate_js}")


def type_date(page, selector: str, day: date) -> None:
    """Type a date into the focused date field, day first or month first as
    this Chromium's locale shows the field."""
    page.keyboard.type(day.strftime("%d%m%Y"))
    if page.locator(selector).input_value() != day.isoformat():
        page.keyboard.press("Shift+Tab")  # from the year back to the field's first part
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(day.strftime("%m%d%Y"))
    assert page.locator(selector).input_value() == day.isoformat()


def settled(page) -> None:
    """htmx has swapped its answer in (no request in flight)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_load_state("networkidle")


def book_url(**q) -> str:
    pairs = [(k, str(x)) for k, v in q.items() for x in (v if isinstance(v, list) else [v])]
    return "/book?" + urlencode(pairs)


def test_a_16_week_series_found_previewed_and_booked_with_the_keyboard(page, sign_in, api,
                                                                       axe_check):
    client = new_client(api, "Kai")
    haddad = clinician(api, "Dr Farah Haddad")
    start = monday_ahead(WEEKS_AHEAD)
    sign_in(page, "front_desk")
    # The menu, by keyboard.
    tab_to(page, "el => el.textContent.trim() === 'Book a course'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/book")
    axe_check(page, "booking page, empty")
    # Client search as one types; Add, then on through the choices.
    tab_to(page, "el => el.id === 'client-q'")
    page.keyboard.type(client["name"][4:])  # part of the name, not its start
    page.locator("#client-results li").first.wait_for()
    axe_check(page, "booking page, search results")
    tab_to(page, "el => el.name === 'add_client'")
    page.keyboard.press("Enter")
    page.locator("ul.chosen li").wait_for()
    settled(page)
    assert client["name"] in page.locator("ul.chosen").inner_text()
    assert focused(page) == "client-q"
    tab_to(page, "el => el.id === 'f-modality'")
    tab_to(page, "el => el.id === 'f-clinician'")
    page.keyboard.type("Dr Farah")
    assert page.locator("#f-clinician").input_value() == str(haddad["id"])
    tab_to(page, "el => el.id === 'f-session_count'")
    page.keyboard.press("Control+A")
    page.keyboard.type("16")
    tab_to(page, "el => el.id === 'f-from'")
    type_date(page, "#f-from", start)
    tab_to(page, "el => el.id === 'find-button'")
    page.keyboard.press("Enter")
    page.locator("table.slot-grid").wait_for()
    settled(page)
    assert focused(page) == "slots-h"
    assert "16/16" in page.locator("table.slot-grid").inner_text()
    axe_check(page, "booking page, grid")
    # The first cell free all 16 weeks, then its preview.
    tab_to(page, "el => el.closest('td.cell-all') !== null")
    picked = focused(page, "el => el.value")
    page.keyboard.press("Enter")
    page.locator("#preview").wait_for()
    settled(page)
    assert focused(page) == "preview-h"
    assert "Nothing stands in the way" in page.locator("#preview").inner_text()
    assert page.locator("table.sessions tbody tr").count() == 16
    assert "pick=" in page.url and picked.split(",")[0] == str(haddad["id"])
    assert client["name"] not in page.url  # ids only in the address
    axe_check(page, "booking page, preview")
    tab_to(page, "el => el.id === 'book-button'", limit=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/courses/" in page.url
    assert "booked: 16 sessions" in page.locator(".flashes").inner_text()
    booked = courses_of(api, client["id"])
    assert len(booked) == 1 and booked[0]["clinician_id"] == haddad["id"]
    course = api("front_desk").get(f"/api/courses/{booked[0]['id']}").json()
    assert len(course["sessions"]) == 16
    # The series in the clinician's week view.
    first = course["sessions"][0]
    day = date.fromisoformat(first["starts_at"][:10])
    page.goto(f"/calendar?view=week&by=clinician&date={day.isoformat()}")
    event = page.locator(f'.ec-event[data-session-id="{first["id"]}"]')
    event.wait_for()
    assert "1/16" in event.inner_text()


@pytest.fixture
def clash(api):
    """A client already booked with Dr Mensah on two Tuesdays some 44 weeks ahead."""
    client = new_client(api, "Cleo")
    mensah = clinician(api, "Dr Eva Mensah")
    start = monday_ahead(WEEKS_AHEAD + 4) + timedelta(days=1)
    desk = api("front_desk")
    slots = desk.get("/api/availability", params={
        "clinician_id": mensah["id"], "weeks": 2, "duration_minutes": 50,
        "from": (start + timedelta(weeks=3)).isoformat(), "weekday": 1,
        "earliest": "10:00"}).json()["slots"]
    slot = next(s for s in slots if s["start_time"][3:] in ("00", "30"))  # a row of the grid
    r = desk.post("/api/courses", json={
        "client_ids": [client["id"]], "clinician_id": mensah["id"], "room_id": slot["room_id"],
        "modality": "general", "first_date": slot["first_date"],
        "start_time": slot["start_time"], "duration_minutes": 50, "session_count": 2})
    assert r.status_code == 201, r.text
    return {"client": client, "clinician": mensah, "start": start, "slot": slot,
            "course": r.json()}


def test_a_clashing_series_shows_its_conflicts_and_writes_nothing(page, sign_in, api, clash,
                                                                  axe_check):
    sign_in(page, "front_desk")
    page.goto(book_url(client_ids=clash["client"]["id"], clinician=clash["clinician"]["id"],
                       session_count=16, **{"from": clash["start"].isoformat()}, find=1))
    # The client's own sessions make that time "not possible": 14 of 16 weeks.
    row = page.locator("table.slot-grid tbody tr", has=page.locator(
        "th", has_text=clash["slot"]["start_time"]))
    days = page.locator("table.slot-grid thead th").all_inner_texts()
    tue = row.locator("td").nth(days.index("Tue") - 1)
    assert "14/16" in tue.inner_text() and "not possible" in tue.inner_text()
    assert "cell-none" in tue.get_attribute("class")
    tue.locator("button").click()
    page.locator("#preview").wait_for()
    settled(page)
    preview = page.locator("#preview").inner_text()
    assert "cannot be booked" in preview and "2 sessions clash" in preview
    assert f"client {clash['client']['id']} has a session" in preview
    assert "Free that day" in preview
    assert page.locator("#book-button").count() == 0
    axe_check(page, "booking page, preview with conflicts")
    assert [c["id"] for c in courses_of(api, clash["client"]["id"])] == [clash["course"]["id"]]


def test_screenshots_at_1280_and_390_with_the_grid(page, sign_in, api, axe_check, artifact):
    """Dr Okafor's IPT week (Monday to Friday) over the demo's own courses."""
    client = new_client(api, "Ivy")
    okafor = clinician(api, "Dr Ada Okafor")
    sign_in(page, "front_desk")
    page.goto(book_url(client_ids=client["id"], modality="ipt", clinician=okafor["id"],
                       session_count=16, find=1))
    page.locator("table.slot-grid").wait_for()
    assert len(page.locator("table.slot-grid thead th").all_inner_texts()) == 6
    page.screenshot(path=str(artifact("booking-1280.png")), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    grid = page.locator(".grid-scroll")
    assert grid.evaluate("el => el.scrollWidth > el.clientWidth")  # the grid scrolls...
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("#find-button").bounding_box()  # ...the page does not
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(artifact("booking-390.png")), full_page=True)
    axe_check(page, "booking page with the grid at 390 px")


def test_a_series_taken_before_book_is_refused_next_to_book_and_keeps_everything(
        page, sign_in, api, axe_check):
    client, other = new_client(api, "Rae"), new_client(api, "Ola")
    mensah = clinician(api, "Dr Eva Mensah")
    start = monday_ahead(WEEKS_AHEAD + 8)
    sign_in(page, "front_desk")
    page.goto(book_url(client_ids=client["id"], clinician=mensah["id"], session_count=4,
                       earliest="15:00", **{"from": start.isoformat()}, find=1))
    page.locator("td.cell-all button").first.click()
    page.locator("#book-button").wait_for()
    settled(page)
    # Meanwhile, someone books the same clinician and time for another client.
    pick = parse_qs(urlsplit(page.url).query)["pick"][0].split(",")
    r = api("front_desk").post("/api/courses", json={
        "client_ids": [other["id"]], "clinician_id": int(pick[0]), "room_id": int(pick[1]),
        "modality": "general", "first_date": pick[2], "start_time": pick[3],
        "duration_minutes": 50, "session_count": 1})
    assert r.status_code == 201, r.text
    with page.expect_navigation():
        page.locator("#book-button").click()
    refusal = page.locator("#refusal")
    assert "Not booked" in refusal.inner_text() and "clash" in refusal.inner_text()
    # Everything is still there: the client, the choices, the picked slot.
    assert client["name"] in page.locator("ul.chosen").inner_text()
    assert page.locator("#f-session_count").input_value() == "4"
    assert page.locator("#f-earliest").input_value() == "15:00"
    assert page.locator("#f-clinician").input_value() == str(mensah["id"])
    assert page.locator("table.slot-grid").count() == 1
    axe_check(page, "booking page, refused at Book")
    assert courses_of(api, client["id"]) == []


def test_a_refused_form_keeps_what_was_typed(page, sign_in, api, axe_check):
    client = new_client(api, "Noor")
    sign_in(page, "front_desk")
    page.goto(book_url(client_ids=client["id"]))
    page.locator("#f-modality").select_option("ipt")
    assert page.locator("#f-session_count").input_value() == "16"  # IPT's default
    page.locator("#f-session_count").fill("20")
    page.locator("#f-earliest").fill("09:30")
    page.locator("#find-button").click()
    page.locator("#e-session_count").wait_for()
    settled(page)
    assert "ipt.session_count" in page.locator("#e-session_count").inner_text()
    assert page.locator("#f-session_count").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-session_count").input_value() == "20"
    assert page.locator("#f-modality").input_value() == "ipt"
    assert page.locator("#f-earliest").input_value() == "09:30"
    assert client["name"] in page.locator("ul.chosen").inner_text()
    assert page.locator("table.slot-grid").count() == 0
    axe_check(page, "booking page, refused choices")
    # A new client with a bad email: the error next to it, the rest kept.
    page.locator("details.new-client summary").click()
    page.locator("#f-name").fill("Pat Newperson")
    page.locator("#f-email").fill("not-an-email")
    with page.expect_navigation():
        page.locator("details.new-client button[type=submit]").click()
    assert page.locator("#e-email").is_visible()
    assert page.locator("#f-name").input_value() == "Pat Newperson"
    assert page.locator("#f-email").input_value() == "not-an-email"
    assert client["name"] in page.locator("ul.chosen").inner_text()
    axe_check(page, "booking page, refused new client")
    found = api("front_desk").get("/api/clients", params={"q": "Pat Newperson"}).json()
    assert found["total"] == 0


def test_a_book_form_without_its_csrf_token_changes_nothing(page, sign_in, api):
    client = new_client(api, "Sol")
    haddad = clinician(api, "Dr Farah Haddad")
    sign_in(page, "front_desk")
    page.goto(book_url(client_ids=client["id"], clinician=haddad["id"], session_count=2,
                       **{"from": monday_ahead(WEEKS_AHEAD + 20).isoformat()}, find=1))
    page.locator("td.cell-all button").first.click()
    page.locator("#book-button").wait_for()
    settled(page)
    page.evaluate("document.querySelector('.book-form input[name=csrf_token]').remove()")
    with page.expect_navigation():
        page.locator("#book-button").click()
    assert "security token" in page.content()
    assert courses_of(api, client["id"]) == []
