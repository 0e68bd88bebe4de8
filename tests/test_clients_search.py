"""``GET /api/clients?q=``: search by part of the name or by date of birth."""
from __future__ import annotations

from datetime import date


def names(r) -> list[str]:
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["items"])
    return [c["name"] for c in r.json["items"]]


def test_name_fragment_matches_any_case(admin_api, make_client):
    make_client("Ada Lovelace"), make_client("Alan Turing"), make_client("Grace LOVELL")
    assert names(admin_api.get("/api/clients?q=love")) == ["Ada Lovelace", "Grace LOVELL"]
    assert names(admin_api.get("/api/clients?q=TURING")) == ["Alan Turing"]
    assert names(admin_api.get("/api/clients?q=ring")) == ["Alan Turing"]
    assert names(admin_api.get("/api/clients?q=nobody")) == []


def test_without_q_the_list_is_unchanged(admin_api, make_client):
    make_client("Ada Lovelace"), make_client("Alan Turing")
    assert names(admin_api.get("/api/clients")) == ["Ada Lovelace", "Alan Turing"]


def test_wildcards_in_q_are_plain_text(admin_api, make_client):
    make_client("Ada Lovelace"), make_client("Per_cent 100%")
    assert names(admin_api.get("/api/clients?q=%25")) == ["Per_cent 100%"]
    assert names(admin_api.get("/api/clients?q=_")) == ["Per_cent 100%"]


def test_date_of_birth_matches_exactly(admin_api, make_client):
    make_client("Born Early", date_of_birth=date(1980, 1, 31))
    make_client("Born Later", date_of_birth=date(1980, 2, 1))
    make_client("No Birthday")
    assert names(admin_api.get("/api/clients?q=1980-01-31")) == ["Born Early"]
    assert names(admin_api.get("/api/clients?q=%201980-02-01%20")) == ["Born Later"]
    # a date-shaped text that is no date finds nothing, and is no error
    assert names(admin_api.get("/api/clients?q=1980-02-30")) == []


def test_search_pages_like_the_list(admin_api, make_client):
    for i in range(3):
        make_client(f"Same Name {i}")
    r = admin_api.get("/api/clients?q=same&limit=2")
    assert len(r.json["items"]) == 2 and r.json["total"] == 3


def test_clinician_searches_only_their_own_clients(api_as, admin_api, make_clinician, make_room,
                                                   make_client):
    mine, theirs = make_clinician(), make_clinician()
    room = make_room()
    own = make_client("Ada Own")
    other = make_client("Ada Other")
    for clinician, client, day in ((mine, own, "2030-03-04"), (theirs, other, "2030-03-05")):
        r = admin_api.post("/api/courses", json={
            "clinician_id": clinician, "room_id": room, "client_ids": [client],
            "first_date": day, "start_time": "10:00", "duration_minutes": 50,
            "session_count": 1})
        assert r.status_code == 201, r.json
    doctor = api_as("clinician", clinician_id=mine)
    assert names(doctor.get("/api/clients?q=ada")) == ["Ada Own"]
    assert names(doctor.get("/api/clients?q=other")) == []
    assert names(admin_api.get("/api/clients?q=ada")) == ["Ada Own", "Ada Other"]


def test_bad_q_is_422(admin_api):
    for q in ("", "%20%20", "x" * 201):
        r = admin_api.get(f"/api/clients?q={q}")
        assert r.status_code == 422, q
        assert r.json["violations"][0]["field"] == "q"
