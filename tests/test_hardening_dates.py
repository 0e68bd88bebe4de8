"""Issue 10, item 1: every date the API takes has a documented range, checked
by the schema (422); no computation steps outside it; every ``starts_at`` is
RFC 3339. Each case below answered 500 (or an unreadable offset) before."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


@pytest.fixture
def basics(make_clinician, make_room, make_client):
    return {"clinician_id": make_clinician(), "room_id": make_room(),
            "client_ids": [make_client()]}


def _booking(basics, **kw):
    body = {**basics, "first_date": "2031-03-04", "start_time": "10:00",
            "duration_minutes": 50, "session_count": 4}
    body.update(kw)
    return body


def _fields(r):
    return {v.get("field") for v in r.json.get("violations", [])}


@pytest.mark.parametrize("first", ["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01",
                                   "1786-05-30"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_booking_first_date_out_of_range_is_422(desk, basics, first, dry_run):
    r = desk.post("/api/courses", json=_booking(basics, first_date=first, dry_run=dry_run))
    assert r.status_code == 422, r.json
    assert "first_date" in _fields(r)


def test_booking_bounds_themselves_are_taken(desk, basics):
    r = desk.post("/api/courses", json=_booking(basics, first_date="2000-01-03",
                                                session_count=1))
    assert r.status_code == 201, r.json
    assert RFC3339.match(r.json["sessions"][0]["starts_at"])


def test_override_date_out_of_range_is_422(desk, basics):
    r = desk.post("/api/courses", json=_booking(
        basics, overrides=[{"number": 2, "date": "9999-12-31"}]))
    assert r.status_code == 422, r.json
    assert any(f and f.startswith("overrides") for f in _fields(r))


def test_series_running_past_the_last_date_is_refused_with_a_rule(desk, basics):
    r = desk.post("/api/courses", json=_booking(basics, first_date="2199-12-02",
                                                session_count=10))
    assert r.status_code == 422, r.json
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}
    r = desk.post("/api/courses", json=_booking(basics, first_date="2199-12-02",
                                                session_count=10, dry_run=True))
    assert r.status_code == 200, r.json
    assert not r.json["ok"]
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}


@pytest.fixture
def course(desk, basics):
    r = desk.post("/api/courses", json=_booking(basics, first_date="2031-03-04"))
    assert r.status_code == 201, r.json
    return r.json


def _move(api, course, number=1, **body):
    return api.post(f"/api/courses/{course['id']}/sessions/{number}/reschedule", json=body)


@pytest.mark.parametrize("body", [
    {"date": "0001-01-01", "start_time": "10:00"},
    {"date": "9999-12-31", "start_time": "23:30", "scope": "following"},
    {"date": "9999-12-30", "start_time": "10:00"},
    {"date": "1786-05-30", "start_time": "10:00"},
    {"starts_at": "0001-01-01T10:00:00+14:00"},
    {"starts_at": "9999-12-31T23:30:00-12:00"},
    {"starts_at": "1999-12-31T10:00:00+00:00"},
])
@pytest.mark.parametrize("dry_run", [False, True])
def test_reschedule_out_of_range_is_422(desk, course, body, dry_run):
    r = _move(desk, course, **body, dry_run=dry_run)
    assert r.status_code == 422, r.json
    assert _fields(r) & {"date", "starts_at"}
    assert desk.get(f"/api/courses/{course['id']}").status_code == 200


def test_following_pushed_past_the_last_date_is_refused(desk, course):
    # Session 1 to 2199-12-24 (a Tuesday): sessions 2-4 would follow into 2200.
    r = _move(desk, course, date="2199-12-24", start_time="10:00", scope="following")
    assert r.status_code == 422, r.json
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}
    r = _move(desk, course, date="2199-12-24", start_time="10:00", scope="following",
              dry_run=True)
    assert r.status_code == 200 and not r.json["ok"], r.json
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}


def test_extend_and_make_up_near_the_last_date_are_refused_not_500(desk, course):
    # The last session on the last Tuesday there is: the next week is past 2199.
    r = _move(desk, course, number=4, date="2199-12-31", start_time="10:00")
    assert r.status_code == 200, r.json
    r = desk.post(f"/api/courses/{course['id']}/extend", json={"sessions": 1})
    assert r.status_code == 422, r.json
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}
    r = desk.post(f"/api/courses/{course['id']}/sessions/2/cancel",
                  json={"by": "client", "make_up": True})
    assert r.status_code == 422, r.json
    assert "schedule.out_of_range" in {v["rule"] for v in r.json["violations"]}
    # Still readable, every instant RFC 3339.
    got = desk.get(f"/api/courses/{course['id']}")
    assert got.status_code == 200
    assert all(RFC3339.match(s["starts_at"]) for s in got.json["sessions"])


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_date_of_birth_range(desk, value):
    r = desk.post("/api/clients", json={"name": "A Person", "date_of_birth": value})
    assert r.status_code == 422, r.json
    assert "date_of_birth" in _fields(r)


def test_date_of_birth_bounds_are_taken(desk):
    for value in ("1900-01-01", date.today().isoformat()):
        r = desk.post("/api/clients", json={"name": "A Person", "date_of_birth": value})
        assert r.status_code == 201, r.json
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    r = desk.post("/api/clients", json={"name": "A Person", "date_of_birth": tomorrow})
    assert r.status_code == 422


@pytest.mark.parametrize("body", [
    {"start_date": "0001-01-01", "end_date": "9999-12-31"},
    {"start_date": "2030-01-01", "end_date": "9999-12-31"},
    {"start_date": "1999-12-31", "end_date": "2030-01-01"},
])
def test_absence_out_of_range_is_422(desk, make_clinician, body):
    cid = make_clinician()
    r = desk.post(f"/api/clinicians/{cid}/absences", json={**body, "reason": "leave"})
    assert r.status_code == 422, r.json


def test_closure_range_reason_and_duplicates(desk, make_room):
    make_room()
    for value in ("0001-01-01", "9999-12-31", "2200-01-01"):
        r = desk.post("/api/closures", json={"date": value, "reason": "Holiday"})
        assert r.status_code == 422, r.json
    r = desk.post("/api/closures", json={"date": "2031-12-25"})
    assert r.status_code == 422, r.json
    assert "reason" in _fields(r)
    r = desk.post("/api/closures", json={"date": "2031-12-25", "reason": "   "})
    assert r.status_code == 422, r.json
    r = desk.post("/api/closures", json={"date": "2031-12-25", "reason": "Christmas"})
    assert r.status_code == 201, r.json
    r = desk.post("/api/closures", json={"date": "2031-12-25", "reason": "Again"})
    assert r.status_code == 409, r.json
    site = desk.get("/api/sites").json["items"][0]["id"]
    r = desk.post("/api/closures", json={"date": "2031-12-25", "reason": "Site",
                                         "site_id": site})
    assert r.status_code == 201, r.json
    r = desk.post("/api/closures", json={"date": "2031-12-25", "reason": "Site again",
                                         "site_id": site})
    assert r.status_code == 409, r.json


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01"])
def test_availability_from_out_of_range(desk, make_clinician, value):
    cid = make_clinician()
    r = desk.get(f"/api/availability?clinician_id={cid}&weeks=8&duration_minutes=50&from={value}")
    assert r.status_code == 422, r.json
    assert "from" in _fields(r)


def test_availability_never_offers_dates_past_the_range(desk, make_clinician, make_room):
    cid = make_clinician()
    make_room()
    url = f"/api/availability?clinician_id={cid}&weeks=8&duration_minutes=50&from="
    r = desk.get(url + "2199-12-01")
    assert r.status_code == 200, r.json
    assert r.json["slots"] == []  # 8 weeks from there run into 2200
    r = desk.get(url + "2199-10-01")
    assert r.status_code == 200, r.json
    assert r.json["slots"]
    assert max(d for s in r.json["slots"] for d in s["dates"]) <= "2199-12-31"


def test_sessions_range_is_bounded(desk):
    r = desk.get("/api/sessions?from=9999-12-01&to=9999-12-31")
    assert r.status_code == 422


def test_openapi_documents_the_ranges(client):
    doc = client.get("/api/openapi.json").json
    schemas = doc["components"]["schemas"]

    def prop(schema, name):
        return schemas[schema]["properties"][name]

    for schema, name in [("Booking", "first_date"), ("Closure", "date"),
                         ("Absence", "start_date"), ("Absence", "end_date"),
                         ("Reschedule", "date"), ("Override", "date")]:
        p = prop(schema, name)
        assert p["format"] == "date"
        assert "2000-01-01" in p["description"] and "2199-12-31" in p["description"]
        assert p.get("x-minimum") == "2000-01-01" and p.get("x-maximum") == "2199-12-31"
    dob = prop("Client", "date_of_birth")
    assert "1900-01-01" in dob["description"]
