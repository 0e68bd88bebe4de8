"""The course page in Chromium: a session moved with the keyboard alone, a
refused move explained next to its form (and nothing written, checked
through the API), and axe-core on the course page, the clients list, a
client form with an error and the closures page.

The tests book their own course with Dr Gabriel Silva some thirty weeks
ahead (past the demo's courses and the other browser tests' weeks), for a
client of their own, and add and remove a closure three years ahead.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

ZONE = ZoneInfo("Europe/London")
CLINICIAN = "Dr Gabriel Silva"
WEEKS_AHEAD = 30


def sessions(api, course_id: int) -> dict[int, dict]:
    r = api("front_desk").get(f"/api/courses/{course_id}")
    assert r.status_code == 200, r.text
    return {s["number"]: s for s in r.json()["sessions"]}


def later(hhmm: str, hours: int) -> str:
    h, m = map(int, hhmm.split(":"))
    return f"{h + hours:02d}:{m:02d}"


@pytest.fixture(scope="module")
def course(api):
    """A three-session course of Dr Silva's at a morning slot (before 10:00,
    so the times typed below stay in the morning whatever the time field's
    12- or 24-hour display)."""
    desk = api("front_desk")
    clinicians = desk.get("/api/clinicians", params={"limit": 100}).json()["items"]
    silva = next(c for c in clinicians if c["name"] == CLINICIAN)
    client = desk.post("/api/clients", json={"name": f"Kim Keyboard{uuid.uuid4().hex[:4]}"})
    assert client.status_code == 201, client.text
    today = datetime.now(ZONE).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=WEEKS_AHEAD)
    slots = desk.get("/api/availability", params={
        "clinician_id": silva["id"], "weeks": 3, "duration_minutes": 50,
        "from": monday.isoformat(), "earliest": "08:00", "latest": "11:00"}).json()["slots"]
    slot = next(s for s in slots if s["start_time"] < "10:00")
    r = desk.post("/api/courses", json={
        "client_ids": [client.json()["id"]], "clinician_id": silva["id"],
        "room_id": slot["room_id"], "modality": "general", "first_date": slot["first_date"],
        "start_time": slot["start_time"], "duration_minutes": 50, "session_count": 3})
    assert r.status_code == 201, r.text
    return {"course": r.json(), "clinician": silva, "start": slot["start_time"]}


def tab_to(page, predicate_js: str, limit: int = 120) -> None:
    """Press Tab until ``predicate_js`` (a function of the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => ({predicate_js})(el))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate_js}")


def test_reschedule_a_session_with_the_keyboard_alone(page, sign_in, api, course, axe_check,
                                                      artifact):
    cid = course["course"]["id"]
    before = sessions(api, cid)
    target = later(course["start"], 1)
    sign_in(page, "front_desk", next_path=f"/courses/{cid}")
    assert page.url.endswith(f"/courses/{cid}")
    axe_check(page, "course page")
    page.screenshot(path=str(artifact("course-page-1280.png")), full_page=True)
    # to session 2's link, and Enter opens its action panel
    tab_to(page, "el => el.tagName === 'A' && el.textContent.includes('session 2')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "session=2" in page.url
    assert page.locator("#panel-h").inner_text().startswith("Session 2")
    # the reschedule form is open: to the start time, type the new one, Enter
    tab_to(page, "el => el.id === 'rs-time'")
    page.keyboard.type(target.replace(":", ""))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    day = date.fromisoformat(before[2]["starts_at"][:10])
    assert f"Session 2 moved to {day.strftime('%a %-d %b %Y')}, {target}." in \
        page.locator(".flashes").inner_text()
    assert f"{target}–" in page.locator("#s-2 td.when").inner_text()
    after = sessions(api, cid)
    assert after[2]["starts_at"][11:16] == target
    assert after[2]["starts_at"][:10] == before[2]["starts_at"][:10]
    assert after[3]["starts_at"] == before[3]["starts_at"]  # "this session" only
    assert not page.js_errors


def test_a_refused_move_is_explained_next_to_its_form(page, sign_in, api, course, axe_check):
    cid = course["course"]["id"]
    before = sessions(api, cid)
    # someone else's session at the time session 3 is to move to
    desk = api("front_desk")
    other = desk.post("/api/clients", json={"name": f"Olu Other{uuid.uuid4().hex[:4]}"}).json()
    busy_at = later(course["start"], 2)
    busy = desk.post("/api/courses", json={
        "client_ids": [other["id"]], "clinician_id": course["clinician"]["id"],
        "room_id": before[3]["room_id"], "modality": "general",
        "first_date": before[3]["starts_at"][:10], "start_time": busy_at,
        "duration_minutes": 50, "session_count": 1})
    assert busy.status_code == 201, busy.text
    sign_in(page, "front_desk", next_path=f"/courses/{cid}?session=3")
    page.locator("#rs-time").focus()
    page.keyboard.type(busy_at.replace(":", ""))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    box = page.locator("#refusal-reschedule")
    assert box.is_visible()
    text = box.inner_text()
    assert "Not possible: it clashes." in text
    assert re.search(r"the clinician: course %d, session 1" % busy.json()["id"], text)
    # next to its form, which keeps what was typed, and the focus is on it
    assert page.locator("#act-reschedule #refusal-reschedule").count() == 1
    assert page.evaluate("document.activeElement.id") == "refusal-reschedule"
    assert page.locator("#rs-time").input_value() == busy_at
    axe_check(page, "course page with a refusal")
    assert sessions(api, cid) == before  # nothing written


def test_axe_on_clients_a_client_form_with_an_error_and_closures(page, sign_in, api,
                                                                 axe_check, artifact):
    sign_in(page, "front_desk", next_path="/clients")
    axe_check(page, "clients list")
    page.locator("#client-q").fill("Keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/clients" in page.url and "Keyboard" not in page.url
    assert page.locator("#clients-table").inner_text().count("Kim Keyboard") >= 1
    # a client form refused: the error next to its field, what was typed kept
    page.goto("/clients/new")
    page.locator("#f-name").fill("Ula Unborn")
    future = (datetime.now(ZONE).date() + timedelta(days=30)).isoformat()
    page.locator("#f-date_of_birth").fill(future)
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Create client").click()
    said = page.locator("#e-date_of_birth").inner_text()
    assert "today" in said or "future" in said, said
    assert page.locator("#f-name").input_value() == "Ula Unborn"
    assert page.evaluate("document.activeElement.id") == "f-date_of_birth"
    axe_check(page, "client form with an error")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifact("client-form-error-390.png")), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # closures: add one for a site three years ahead, then remove it
    page.goto("/closures")
    axe_check(page, "closures")
    day = date(datetime.now(ZONE).year + 3, 6, 2).isoformat()
    page.locator("#f-date").fill(day)
    page.locator("#f-site_id").select_option(index=1)
    page.locator("#f-reason").fill("Browser test closure")
    with page.expect_navigation():
        page.locator("button", has_text="Add closure").click()
    assert "Closure added" in page.locator(".flashes").inner_text()
    closures = api("front_desk").get("/api/closures", params={"limit": 500}).json()["items"]
    mine = [c for c in closures if c["date"] == day and c["reason"] == "Browser test closure"]
    assert len(mine) == 1 and mine[0]["site_id"] is not None
    axe_check(page, "closures with one added")
    with page.expect_navigation():
        page.locator(f'a[href="/closures/{mine[0]["id"]}/remove"]').click()
    axe_check(page, "closure removal")
    with page.expect_navigation():
        page.locator("button", has_text="Yes, remove it").click()
    closures = api("front_desk").get("/api/closures", params={"limit": 500}).json()["items"]
    assert not [c for c in closures if c["id"] == mine[0]["id"]]


def test_course_page_at_phone_width(page, sign_in, course, axe_check, artifact):
    page.set_viewport_size({"width": 390, "height": 844})
    cid = course["course"]["id"]
    sign_in(page, "front_desk", next_path=f"/courses/{cid}?session=1")
    # the panel is below the table, nothing wider than the screen but the table's wrapper
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.locator("#session-panel").is_visible()
    axe_check(page, "course page at 390 px")
    page.screenshot(path=str(artifact("course-page-390.png")), full_page=True)
