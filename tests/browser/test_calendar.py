"""The calendar in Chromium: the week by clinician with "k/N", one click to
rooms, a session's detail from the keyboard, and drag and drop checked by
the reschedule dry run (a busy time is refused and put back; a free one
moves after confirmation), each outcome checked through the API.

The tests book their own two short courses with Dr Dev Patel some twenty
weeks ahead (where the demo's courses have ended), for clients of their own.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

ZONE = ZoneInfo("Europe/London")
CLINICIAN = "Dr Dev Patel"
WEEKS_AHEAD = 21


def starts(api, course_id: int) -> list[str]:
    r = api("front_desk").get(f"/api/courses/{course_id}")
    assert r.status_code == 200, r.text
    return [s["starts_at"] for s in r.json()["sessions"]]


def _client(desk, label: str) -> dict:
    r = desk.post("/api/clients", json={"name": f"{label} Calendardrag{uuid.uuid4().hex[:4]}"})
    assert r.status_code == 201, r.text
    return r.json()


def _book(desk, clinician_id: int, client_id: int, when: date, weekday: int | None) -> dict:
    q = {"clinician_id": clinician_id, "weeks": 2, "duration_minutes": 50,
         "from": when.isoformat()}
    if weekday is not None:
        q["weekday"] = weekday
    slots = desk.get("/api/availability", params=q)
    assert slots.status_code == 200, slots.text
    slot = slots.json()["slots"][0]
    r = desk.post("/api/courses", json={
        "client_ids": [client_id], "clinician_id": clinician_id, "room_id": slot["room_id"],
        "modality": "general", "first_date": slot["first_date"],
        "start_time": slot["start_time"], "duration_minutes": 50, "session_count": 2})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def courses(api):
    """Two courses of Dr Patel's on the same day, an hour or so apart: A
    (dragged about) and B (the busy time)."""
    desk = api("front_desk")
    clinicians = desk.get("/api/clinicians", params={"limit": 100}).json()["items"]
    patel = next(c for c in clinicians if c["name"] == CLINICIAN)
    today = datetime.now(ZONE).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=WEEKS_AHEAD)
    a_client, b_client = _client(desk, "Alpha"), _client(desk, "Bravo")
    a = _book(desk, patel["id"], a_client["id"], monday, None)
    a_day = date.fromisoformat(a["first_date"])
    b = _book(desk, patel["id"], b_client["id"], a_day, a_day.weekday())
    assert b["first_date"] == a["first_date"], "both first sessions on one day"
    return {"a": a, "b": b, "a_client": a_client, "day": a_day, "clinician": patel}


def week_url(day: date, by: str = "clinician") -> str:
    return f"/calendar?view=week&by={by}&date={day.isoformat()}"


def event(page, session_id: int):
    loc = page.locator(f'.ec-event[data-session-id="{session_id}"]')
    loc.wait_for()
    return loc


def drag(page, source, dx: float, dy: float) -> None:
    """Press on the event's upper part, move in steps, release."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + min(8, box["height"] / 3)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 2, y + 4, steps=2)
    page.mouse.move(x + dx, y + dy, steps=15)
    page.mouse.up()


def px_per_minute(source) -> float:
    return source.bounding_box()["height"] / 50  # the courses' sessions last 50 minutes


def minutes(iso: str) -> int:
    return int(iso[11:13]) * 60 + int(iso[14:16])


def test_week_by_clinician_shows_k_of_n_then_rooms_in_one_click(page, sign_in, courses,
                                                                 axe_check):
    a, b = courses["a"], courses["b"]
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    first = event(page, a["sessions"][0]["id"])
    assert "1/2" in first.inner_text()
    assert "AC" in first.inner_text()  # Alpha Calendardrag…
    assert "1/2" in event(page, b["sessions"][0]["id"]).inner_text()
    heads = page.locator(".ec-col-head").all_inner_texts()
    assert any(CLINICIAN in h for h in heads)
    assert page.js_errors == []
    axe_check(page, "calendar, week by clinician")

    page.get_by_role("link", name="By room").click()
    page.wait_for_url("**by=room**")
    assert f"date={courses['day'].isoformat()}" in page.url and "view=week" in page.url
    first = event(page, a["sessions"][0]["id"])
    assert "1/2" in first.inner_text()
    heads = page.locator(".ec-col-head").all_inner_texts()
    assert any("Room" in h or "Riverside" in h for h in heads)


def test_a_wide_weeks_list_opens_in_place_from_the_keyboard(page, sign_in, courses, axe_check):
    a = courses["a"]
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    event(page, a["sessions"][0]["id"])
    assert page.locator(".session-table").count() == 0  # on request, for a grid this wide
    page.locator("#session-list summary").focus()
    page.keyboard.press("Enter")
    link = page.locator(f'.session-table a[href="/courses/{a["id"]}"]')
    link.first.wait_for()
    row = link.first.locator("xpath=ancestor::tr").inner_text()
    assert CLINICIAN in row and "AC" in row
    assert courses["a_client"]["name"] not in page.locator("#session-list").inner_text()
    axe_check(page, "calendar with its list open")


def test_detail_opens_with_enter_and_shows_the_name_to_front_desk(page, sign_in, courses,
                                                                   axe_check):
    a = courses["a"]
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    ev = event(page, a["sessions"][0]["id"])
    ev.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#detail-dialog")
    dialog.wait_for(state="visible")
    text = dialog.inner_text()
    assert courses["a_client"]["name"] in text
    assert CLINICIAN in text and "scheduled" in text and "1 of 2" in text
    assert dialog.get_by_role("button", name="Open the course").get_attribute("href") == \
        f"/courses/{a['id']}"
    assert courses["a_client"]["name"] not in page.url
    axe_check(page, "calendar, session detail open")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_clinician_sees_no_client_name_and_cannot_drag(page, sign_in):
    sign_in(page, "clinician")
    assert "view=week" in page.url
    page.locator(".ec-event").first.wait_for()
    assert page.locator(".ec-draggable").count() == 0
    heads = page.locator(".ec-col-head").all_inner_texts()
    assert not any("Lindqvist" in h or "Patel" in h for h in heads)


def test_drop_on_another_clinician_is_put_back_with_a_reason(page, sign_in, courses, api):
    a = courses["a"]
    before = starts(api, a["id"])
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    ev = event(page, a["sessions"][0]["id"])
    ev.scroll_into_view_if_needed()
    width = page.locator(".ec-col-head").first.bounding_box()["width"]
    drag(page, ev, -width, 0)
    status = page.locator("#calendar-status")
    status.get_by_text("keeps its clinician").wait_for()
    assert not page.locator("#move-dialog").is_visible()
    assert starts(api, a["id"]) == before


def test_drag_onto_a_busy_time_shows_the_conflict_and_stays_put(page, sign_in, courses, api,
                                                                axe_check):
    a, b = courses["a"], courses["b"]
    before = starts(api, a["id"])
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    src = event(page, a["sessions"][0]["id"])
    delta = minutes(starts(api, b["id"])[0]) - minutes(before[0])
    drag(page, src, 0, delta * px_per_minute(src))

    dialog = page.locator("#move-dialog")
    dialog.wait_for(state="visible")
    result = dialog.locator("#move-result")
    result.get_by_text("clashes").first.wait_for()
    text = result.inner_text()
    assert f"{CLINICIAN} already has a session then" in text
    assert f"course {b['id']}, session 1" in text
    assert "Suggestions:" in text
    assert dialog.get_by_role("button", name="Confirm the move").is_disabled()
    assert page.evaluate("document.activeElement.closest('dialog')?.id") == "move-dialog"
    axe_check(page, "calendar, move dialog with a conflict")

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.locator("#calendar-status").get_by_text("not moved").wait_for()
    assert event(page, a["sessions"][0]["id"]).inner_text().startswith(before[0][11:16])
    assert starts(api, a["id"]) == before


def _free_time(api, course: dict, avoid: set[int]) -> str:
    """A start time that day where both sessions could go (the dry run says ok)."""
    desk = api("front_desk")
    day = course["first_date"]
    for hour in (13, 14, 15, 16, 11, 9, 10):
        hhmm = f"{hour:02d}:00"
        if hour * 60 in avoid:
            continue
        r = desk.post(f"/api/courses/{course['id']}/sessions/1/reschedule",
                      json={"date": day, "start_time": hhmm, "scope": "following",
                            "dry_run": True})
        if r.status_code == 200 and r.json()["ok"]:
            return hhmm
    pytest.fail("no free hour for the move that day")


def test_drag_onto_a_free_time_moves_after_confirmation(page, sign_in, courses, api):
    a, b = courses["a"], courses["b"]
    before = starts(api, a["id"])
    target = _free_time(api, a, {minutes(before[0]), minutes(b["sessions"][0]["starts_at"])})
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    src = event(page, a["sessions"][0]["id"])
    delta = int(target[:2]) * 60 - minutes(before[0])
    # the grid may need scrolling to show the target; move the event's day into view first
    page.evaluate("""([id, dy]) => {
        const ev = document.querySelector(`.ec-event[data-session-id="${id}"]`);
        const main = document.querySelector('.ec-main');
        main.scrollTop += ev.getBoundingClientRect().top - main.getBoundingClientRect().top
            - 120 + Math.min(0, dy);
    }""", [a["sessions"][0]["id"], delta * px_per_minute(src)])
    drag(page, src, 0, delta * px_per_minute(src))

    dialog = page.locator("#move-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_text("Free: nothing clashes.").wait_for()
    dialog.get_by_label("This and the following sessions").check()
    dialog.get_by_text("2 sessions move").wait_for()
    dialog.get_by_role("button", name="Confirm the move").click()
    dialog.wait_for(state="hidden")
    page.locator("#calendar-status").get_by_text("Moved session 1/2").wait_for()

    after = starts(api, a["id"])
    assert [s[11:16] for s in after] == [target, target]
    assert [s[:10] for s in after] == [s[:10] for s in before]
    # the calendar shows it where it went, after fetching again
    page.wait_for_function(
        "([id, t]) => document.querySelector(`.ec-event[data-session-id=\"${id}\"]`)"
        "?.innerText.startsWith(t)", arg=[a["sessions"][0]["id"], target])


def test_by_room_a_drop_on_another_room_moves_this_session_there(page, sign_in, courses, api):
    a = courses["a"]
    desk = api("front_desk")
    now = desk.get(f"/api/courses/{a['id']}").json()["sessions"]
    rooms = {r["id"]: r for r in desk.get("/api/rooms", params={"limit": 100}).json()["items"]}
    here = rooms[now[0]["room_id"]]
    same_site = [r for r in rooms.values() if r["id"] != here["id"] and r["active"]
                 and r["site_id"] == here["site_id"]]
    target = next((r for r in same_site if desk.post(
        f"/api/courses/{a['id']}/sessions/1/reschedule",
        json={"starts_at": now[0]["starts_at"], "room_id": r["id"], "dry_run": True}
    ).json().get("ok")), None)
    assert target, "another free room at that site and time"
    sign_in(page, "front_desk", next_path=f"/calendar?view=day&by=room&site_id="
            f"{here['site_id']}&date={now[0]['starts_at'][:10]}")
    src = event(page, a["sessions"][0]["id"])
    head = page.locator(".ec-col-head", has_text=target["name"]).first
    dx = (head.bounding_box()["x"] + head.bounding_box()["width"] / 2) - (
        src.bounding_box()["x"] + src.bounding_box()["width"] / 2)
    drag(page, src, dx, 0)
    dialog = page.locator("#move-dialog")
    dialog.get_by_text("Free: nothing clashes.").wait_for()
    assert f"in {target['name']}" in dialog.locator("#move-what").inner_text()
    dialog.get_by_role("button", name="Confirm the move").click()
    dialog.wait_for(state="hidden")
    after = desk.get(f"/api/courses/{a['id']}").json()["sessions"]
    assert after[0]["room_id"] == target["id"] and after[0]["starts_at"] == now[0]["starts_at"]
    assert after[1]["room_id"] == now[1]["room_id"]  # this session only


def test_a_refusal_at_confirm_shows_its_rule_and_puts_the_session_back(page, sign_in, courses,
                                                                       api):
    """Free at the dry run, refused at the confirm (an absence recorded in
    between): the 422's message and rule are shown and the session goes back."""
    a = courses["a"]
    before = starts(api, a["id"])
    target = _free_time(api, a, {minutes(before[0])})
    sign_in(page, "front_desk", next_path=week_url(courses["day"]))
    src = event(page, a["sessions"][0]["id"])
    drag(page, src, 0, (int(target[:2]) * 60 - minutes(before[0])) * px_per_minute(src))
    dialog = page.locator("#move-dialog")
    dialog.get_by_text("Free: nothing clashes.").wait_for()

    admin = api("admin")
    day = courses["day"].isoformat()
    made = admin.post(f"/api/clinicians/{courses['clinician']['id']}/absences",
                      json={"start_date": day, "end_date": day, "reason": "Calendar test"})
    assert made.status_code == 201, made.text
    try:
        dialog.get_by_role("button", name="Confirm the move").click()
        refusal = dialog.locator(".refusal")
        refusal.get_by_text("Not moved").wait_for()
        assert "rule calendar.blocked, core" in refusal.inner_text()
        assert dialog.get_by_role("button", name="Confirm the move").is_disabled()
        assert event(page, a["sessions"][0]["id"]).inner_text().startswith(before[0][11:16])
        dialog.get_by_role("button", name="Cancel").click()
        dialog.wait_for(state="hidden")
        assert starts(api, a["id"]) == before
    finally:
        admin.delete(f"/api/clinicians/{courses['clinician']['id']}/absences/"
                     f"{made.json()['id']}")


def test_screenshots_at_1280_and_390(page, sign_in, artifact, axe_check):
    day = datetime.now(ZONE).date()
    if day.weekday() >= 5:  # the demo's busy days are weekdays
        day += timedelta(days=7 - day.weekday())
    sign_in(page, "front_desk", next_path=week_url(day))
    page.locator(".ec-event").first.wait_for()
    page.screenshot(path=str(artifact("calendar-1280.png")))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/calendar?view=day&by=clinician&date={day.isoformat()}")
    page.locator(".ec-event").first.wait_for()
    axe_check(page, "calendar at 390 px")
    # the page itself never scrolls sideways: the grid does, inside its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifact("calendar-390.png")), full_page=True)


def test_times_are_the_practices_whatever_the_browsers_zone(browser, live_server, sign_in,
                                                            courses, api):
    """A browser in New York still shows (and would move) London wall-clock times."""
    a = courses["a"]
    now = starts(api, a["id"])[0]  # where it is now (another test may have moved it)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  base_url=live_server.url, locale="en-US",
                                  timezone_id="America/New_York")
    try:
        pg = context.new_page()
        sign_in(pg, "front_desk", next_path=week_url(courses["day"]))
        assert event(pg, a["sessions"][0]["id"]).inner_text().startswith(now[11:16])
    finally:
        context.close()
