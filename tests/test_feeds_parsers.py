"""Weekly Monday 17:00 America/New_York series across both 2026 DST changes,
booked through the API, read back by three independent parsers: icalendar,
recurring-ical-events and ical.js (which only has the feed's VTIMEZONE).
Every parser must give exactly the instants the API gave."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from feeds_parsers import icaljs, js_instant, needs_node
from icalendar import Calendar

NY = ZoneInfo("America/New_York")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_TIMEZONE": "America/New_York",
            "FEED_TODAY": "2026-02-10"}


@pytest.fixture
def booked(client, admin_api, make_clinician, make_room, make_client):
    clinician = make_clinician("Dr Okafor")
    room = make_room("Room 2, East; upstairs")
    courses = []
    for first, name in ((date(2026, 2, 23), "Ada One"), (date(2026, 10, 19), "Bo Two")):
        resp = admin_api.post("/api/courses", json={
            "client_ids": [make_client(name)], "clinician_id": clinician, "room_id": room,
            "modality": "general", "first_date": first.isoformat(), "start_time": "17:00",
            "duration_minutes": 50, "session_count": 4})
        assert resp.status_code == 201, resp.json
        courses.append(resp.json)
    url = admin_api.post(f"/api/clinicians/{clinician}/feed").json["url"]
    path = "/feeds/" + url.split("/feeds/")[1]
    return {"courses": courses, "path": path, "client": client, "api": admin_api}


def api_instants(courses) -> list[tuple[datetime, datetime]]:
    return sorted((datetime.fromisoformat(s["starts_at"]).astimezone(timezone.utc),
                   datetime.fromisoformat(s["ends_at"]).astimezone(timezone.utc))
                  for c in courses for s in c["sessions"])


def fetch(booked) -> bytes:
    resp = booked["client"].get(booked["path"], buffered=True)
    assert resp.status_code == 200
    return resp.data


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


def test_the_api_booked_17_00_local_on_both_sides_of_each_change(booked):
    instants = api_instants(booked["courses"])
    assert [s.astimezone(NY).time() for s, _e in instants] == [time(17)] * 8
    # EST is UTC-5, EDT UTC-4: 22:00Z in winter, 21:00Z in summer.
    assert [s.hour for s, _e in instants] == [22, 22, 21, 21, 21, 21, 22, 22]


def test_icalendar_reads_the_api_instants(booked):
    cal = Calendar.from_ical(fetch(booked))
    got = sorted((utc(e.decoded("DTSTART")), utc(e.decoded("DTEND")))
                 for e in cal.walk("VEVENT"))
    assert got == api_instants(booked["courses"])
    assert {e["DTSTART"].params["TZID"] for e in cal.walk("VEVENT")} == {"America/New_York"}
    assert not any("RRULE" in e for e in cal.walk("VEVENT"))
    zones = [str(z["TZID"]) for z in cal.walk("VTIMEZONE")]
    assert zones == ["America/New_York"]  # exactly the zone used, no stray UTC one


def test_recurring_ical_events_reads_the_api_instants(booked):
    cal = Calendar.from_ical(fetch(booked))
    events = recurring_ical_events.of(cal).between(date(2026, 1, 1), date(2027, 1, 1))
    got = sorted((utc(e["DTSTART"].dt), utc(e["DTEND"].dt)) for e in events)
    assert got == api_instants(booked["courses"])


def test_the_vtimezone_alone_gives_the_api_instants(booked):
    """Resolve each DTSTART's wall-clock time with a tzinfo built from the
    feed's own VTIMEZONE (not from the system's zone database)."""
    cal = Calendar.from_ical(fetch(booked))
    (vtimezone,) = cal.walk("VTIMEZONE")
    own = vtimezone.to_tz(lookup_tzid=False)
    got = sorted((utc(e.decoded("DTSTART").replace(tzinfo=own)),
                  utc(e.decoded("DTEND").replace(tzinfo=own))) for e in cal.walk("VEVENT"))
    assert got == api_instants(booked["courses"])


@needs_node
def test_icaljs_reads_the_api_instants_from_the_vtimezone(booked, tmp_path):
    body = fetch(booked)
    parsed = icaljs(body, tmp_path)
    assert parsed["registered"] == ["America/New_York"]
    assert {e["tzid"] for e in parsed["events"]} == {"America/New_York"}
    got = sorted((js_instant(e["start"]), js_instant(e["end"])) for e in parsed["events"])
    assert got == api_instants(booked["courses"])
    assert {e["location"] for e in parsed["events"]} == {"Room 2, East; upstairs"}
    # Control: without the VTIMEZONE ical.js has nothing to go by, and every
    # instant comes out wrong, so the right ones above came from the feed.
    blind = icaljs(body, tmp_path, drop_vtimezone=True)
    wrong = sorted(js_instant(e["start"]) for e in blind["events"])
    assert all(w not in [s for s, _e in got] for w in wrong)


@needs_node
def test_changes_read_the_same_in_every_parser(booked, tmp_path):
    """Reschedule and cancel through the API; all parsers follow."""
    api = booked["api"]
    march, november = booked["courses"]
    before = {e["uid"]: e for e in icaljs(fetch(booked), tmp_path)["events"]}
    moved = api.post(f"/api/courses/{march['id']}/sessions/3/reschedule",
                     json={"date": "2026-03-10", "start_time": "18:30", "scope": "this"})
    assert moved.status_code == 200, moved.json
    cancelled = api.post(f"/api/courses/{november['id']}/sessions/3/cancel",
                         json={"by": "client", "reason": "ill"})
    assert cancelled.status_code == 200, cancelled.json
    courses = [api.get(f"/api/courses/{c['id']}").json for c in (march, november)]
    body = fetch(booked)
    after = {e["uid"]: e for e in icaljs(body, tmp_path)["events"]}
    assert set(after) == set(before)  # UIDs never change
    changed = [uid for uid in after if after[uid] != before[uid]]
    assert len(changed) == 2
    assert all(after[uid]["sequence"] > before[uid]["sequence"] for uid in changed)
    assert sorted(e["status"] for e in (after[uid] for uid in changed)) == [
        "CANCELLED", "CONFIRMED"]
    js = sorted((js_instant(e["start"]), js_instant(e["end"])) for e in after.values())
    assert js == api_instants(courses)
    cal = Calendar.from_ical(body)
    py = sorted((utc(e.decoded("DTSTART")), utc(e.decoded("DTEND"))) for e in cal.walk("VEVENT"))
    assert py == api_instants(courses)
    assert datetime(2026, 3, 10, 22, 30, tzinfo=timezone.utc) in [s for s, _e in py]
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in cal.walk("VEVENT")}
    assert sorted(statuses.values()).count("CANCELLED") == 1
