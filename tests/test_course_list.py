"""``GET /api/courses``: its filters, paging and who sees what."""
from __future__ import annotations

import pytest


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


@pytest.fixture
def three(desk, make_clinician, make_room, make_client):
    """Three courses: two of one clinician, one of another; two clients."""
    a, b = make_clinician(), make_clinician()
    room = make_room()
    x, y = make_client(), make_client()

    def book(clinician, client, first, count, start="10:00"):
        r = desk.post("/api/courses", json={
            "clinician_id": clinician, "room_id": room, "client_ids": [client],
            "first_date": first, "start_time": start, "duration_minutes": 50,
            "session_count": count})
        assert r.status_code == 201, r.json
        return r.json["id"]

    return {
        "a": a, "b": b, "x": x, "y": y,
        # Mondays 2030-03-04 .. 2030-03-25 (Europe/London, 10:00)
        "early": book(a, x, "2030-03-04", 4),
        # Monday 2030-06-03 at 23:00 local (22:00Z): late in its local day
        "late": book(a, y, "2030-06-03", 1, start="23:00"),
        "other": book(b, x, "2030-09-02", 2),
    }


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.json
    return [c["id"] for c in resp.json["items"]]


def test_filters(desk, three):
    t = three
    assert ids(desk.get("/api/courses")) == [t["early"], t["late"], t["other"]]
    assert ids(desk.get(f"/api/courses?clinician_id={t['a']}")) == [t["early"], t["late"]]
    assert ids(desk.get(f"/api/courses?client_id={t['x']}")) == [t["early"], t["other"]]
    assert ids(desk.get("/api/courses?status=active")) == [t["early"], t["late"], t["other"]]
    assert ids(desk.get("/api/courses?status=completed")) == []
    assert ids(desk.get("/api/courses?modality=general")) == [t["early"], t["late"], t["other"]]


def test_date_range_is_in_local_days(desk, three):
    t = three
    # The 23:00 session belongs to 3 June, local time, and to no other day.
    assert ids(desk.get("/api/courses?from=2030-06-03&to=2030-06-03")) == [t["late"]]
    assert ids(desk.get("/api/courses?from=2030-06-04&to=2030-06-30")) == []
    assert ids(desk.get("/api/courses?from=2030-05-01&to=2030-06-02")) == []
    # A course overlaps the range when any of its sessions does.
    assert ids(desk.get("/api/courses?from=2030-03-20")) == [t["early"], t["late"], t["other"]]
    assert ids(desk.get("/api/courses?from=2030-03-26")) == [t["late"], t["other"]]
    assert ids(desk.get("/api/courses?to=2030-03-04")) == [t["early"]]


def test_paging(desk, three):
    page = desk.get("/api/courses?limit=2&offset=1")
    assert page.json["total"] == 3 and ids(page) == [three["late"], three["other"]]
    for bad in ("limit=0", "limit=501", "offset=-1", "limit=two", "from=2030-02-30",
                "client_id=0", "status=paused"):
        r = desk.get(f"/api/courses?{bad}")
        assert r.status_code == 422, (bad, r.json)


def test_a_clinician_lists_only_their_own(api_as, three):
    own = api_as("clinician", clinician_id=three["b"])
    assert ids(own.get("/api/courses")) == [three["other"]]
    # Asking for another clinician's courses finds none, rather than an error.
    assert ids(own.get(f"/api/courses?clinician_id={three['a']}")) == []
    assert own.get(f"/api/courses/{three['early']}").status_code == 404
    assert own.get(f"/api/courses/{2**31 + 5}").status_code == 404
