"""The directory API: clinicians, sites, rooms, clients, closures, absences.

Success and error answers of every route, through the real app and database.
Role rules are in test_auth.py, audit rows in test_audit.py, hostile input
in test_bad_input.py.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest


def assert_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.json["error"] == code
    assert isinstance(resp.json["message"], str) and resp.json["message"]
    return resp.json


HOURS = [
    {"weekday": 1, "start": "13:30", "end": "18:00"},
    {"weekday": 0, "start": "09:00", "end": "12:30"},
    {"weekday": 1, "start": "09:00", "end": "12:00"},
]


# -- clinicians -----------------------------------------------------------------
def test_clinician_list_is_empty_envelope(admin_api):
    r = admin_api.get("/api/clinicians")
    assert r.status_code == 200
    assert r.json == {"items": [], "total": 0}


def test_create_read_and_list_clinician(admin_api):
    r = admin_api.post("/api/clinicians", json={
        "name": "Dr Ada Okafor", "email": "ada@clinic.example",
        "modalities": ["ipt", "general", "ipt"], "working_hours": HOURS})
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json == {
        "id": cid, "name": "Dr Ada Okafor", "email": "ada@clinic.example", "active": True,
        "modalities": ["general", "ipt"],
        # several blocks a day, returned in weekday and time order
        "working_hours": [
            {"weekday": 0, "start": "09:00", "end": "12:30"},
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 1, "start": "13:30", "end": "18:00"},
        ]}
    assert admin_api.get(f"/api/clinicians/{cid}").json == r.json
    listed = admin_api.get("/api/clinicians").json
    assert listed == {"items": [r.json], "total": 1}


def test_create_clinician_inactive(admin_api):
    r = admin_api.post("/api/clinicians", json={"name": "Dr Away", "email": "away@c.example",
                                                "active": False})
    assert r.status_code == 201 and r.json["active"] is False
    assert r.json["working_hours"] == [] and r.json["modalities"] == []


def test_adjacent_working_hour_blocks_are_fine(admin_api):
    r = admin_api.post("/api/clinicians", json={
        "name": "Dr Adjacent", "email": "adj@c.example",
        "working_hours": [{"weekday": 2, "start": "09:00", "end": "12:00"},
                          {"weekday": 2, "start": "12:00", "end": "13:00"}]})
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("hours, rule", [
    ([{"weekday": 0, "start": "12:00", "end": "09:00"}], "working_hours.order"),
    ([{"weekday": 0, "start": "09:00", "end": "09:00"}], "working_hours.order"),
    ([{"weekday": 0, "start": "09:00", "end": "12:00"},
      {"weekday": 0, "start": "11:59", "end": "14:00"}], "working_hours.overlap"),
    ([{"weekday": 3, "start": "08:00", "end": "18:00"},
      {"weekday": 3, "start": "10:00", "end": "11:00"}], "working_hours.overlap"),
])
def test_bad_working_hours_are_422_naming_the_rule(admin_api, hours, rule):
    r = admin_api.post("/api/clinicians", json={"name": "Dr Bad", "email": "bad@c.example",
                                                "working_hours": hours})
    body = assert_error(r, 422, "validation_error")
    assert rule in [v["rule"] for v in body["violations"]]
    assert all(v["field"].startswith("working_hours") for v in body["violations"])
    assert admin_api.get("/api/clinicians").json["total"] == 0


def test_duplicate_clinician_email_is_409(admin_api):
    assert admin_api.post("/api/clinicians", json={"name": "A", "email": "same@c.example"}
                          ).status_code == 201
    r = admin_api.post("/api/clinicians", json={"name": "B", "email": "SAME@c.example"})
    assert assert_error(r, 409, "conflict")["field"] == "email"
    assert admin_api.get("/api/clinicians").json["total"] == 1


def test_update_clinician(admin_api):
    cid = admin_api.post("/api/clinicians", json={
        "name": "Dr Old", "email": "old@c.example", "modalities": ["general"],
        "working_hours": HOURS}).json["id"]
    r = admin_api.patch(f"/api/clinicians/{cid}", json={"name": "Dr New", "active": False})
    assert r.status_code == 200, r.json
    assert r.json["name"] == "Dr New" and r.json["active"] is False
    assert len(r.json["working_hours"]) == 3  # untouched fields stay
    # working hours and modalities are replaced as a whole
    r = admin_api.patch(f"/api/clinicians/{cid}", json={
        "working_hours": [{"weekday": 4, "start": "10:00", "end": "11:00"}],
        "modalities": ["ipt-m"]})
    assert r.json["working_hours"] == [{"weekday": 4, "start": "10:00", "end": "11:00"}]
    assert r.json["modalities"] == ["ipt-m"]
    assert admin_api.get(f"/api/clinicians/{cid}").json == r.json
    r = admin_api.patch(f"/api/clinicians/{cid}", json={"working_hours": []})
    assert r.json["working_hours"] == []


def test_empty_patch_changes_nothing(admin_api):
    created = admin_api.post("/api/clinicians", json={"name": "Dr Same", "email": "s@c.example"}
                             ).json
    r = admin_api.patch(f"/api/clinicians/{created['id']}", json={})
    assert r.status_code == 200 and r.json == created


def test_update_clinician_email_to_anothers_is_409(admin_api):
    admin_api.post("/api/clinicians", json={"name": "A", "email": "a@c.example"})
    b = admin_api.post("/api/clinicians", json={"name": "B", "email": "b@c.example"}).json
    r = admin_api.patch(f"/api/clinicians/{b['id']}", json={"email": "A@c.example"})
    assert_error(r, 409, "conflict")
    assert admin_api.get(f"/api/clinicians/{b['id']}").json["email"] == "b@c.example"
    # keeping one's own email (in another case) is not a conflict
    r = admin_api.patch(f"/api/clinicians/{b['id']}", json={"email": "B@c.example"})
    assert r.status_code == 200


def test_update_with_bad_hours_changes_nothing(admin_api):
    c = admin_api.post("/api/clinicians", json={"name": "Dr K", "email": "k@c.example",
                                                "working_hours": HOURS}).json
    r = admin_api.patch(f"/api/clinicians/{c['id']}", json={
        "name": "Dr Renamed", "working_hours": [{"weekday": 0, "start": "10:00", "end": "09:00"}]})
    assert_error(r, 422, "validation_error")
    assert admin_api.get(f"/api/clinicians/{c['id']}").json == c


@pytest.mark.parametrize("method, url", [
    ("get", "/api/clinicians/4242"),
    ("patch", "/api/clinicians/4242"),
    ("get", "/api/clinicians/4242/absences"),
    ("get", "/api/rooms/4242"),
    ("patch", "/api/rooms/4242"),
    ("get", "/api/clients/4242"),
    ("patch", "/api/clients/4242"),
    ("delete", "/api/closures/4242"),
    ("delete", "/api/clinicians/4242/absences/1"),
])
def test_unknown_ids_are_404(admin_api, method, url):
    kw = {"json": {}} if method == "patch" else {}
    body = assert_error(getattr(admin_api, method)(url, **kw), 404, "not_found")
    assert "4242" in body["message"]


@pytest.mark.parametrize("method, url", [
    ("put", "/api/clinicians/1"), ("delete", "/api/clinicians/1"),
    ("delete", "/api/clinicians"), ("patch", "/api/clinicians"),
    ("delete", "/api/rooms/1"), ("put", "/api/clients/1"), ("delete", "/api/clients/1"),
    ("get", "/api/closures/1"), ("patch", "/api/closures/1"),
    ("patch", "/api/clinicians/1/absences/1"), ("get", "/api/clinicians/1/absences/1"),
    ("get", "/api/tokens"), ("post", "/api/audit"),
])
def test_wrong_method_is_405_json(admin_api, method, url):
    r = getattr(admin_api, method)(url)
    assert_error(r, 405, "method_not_allowed")
    assert method.upper() not in r.headers["Allow"]


def test_unknown_api_path_is_404_json(admin_api):
    assert_error(admin_api.get("/api/no-such-thing"), 404, "not_found")


# -- lists: limit and offset ------------------------------------------------------
def test_list_limit_and_offset(admin_api, make_client):
    ids = [make_client() for _ in range(7)]
    r = admin_api.get("/api/clients?limit=3&offset=2")
    assert r.status_code == 200
    assert r.json["total"] == 7
    assert [c["id"] for c in r.json["items"]] == ids[2:5]
    assert admin_api.get("/api/clients?offset=7").json == {"items": [], "total": 7}
    assert admin_api.get("/api/clients?offset=1000").json == {"items": [], "total": 7}
    assert len(admin_api.get("/api/clients?limit=500").json["items"]) == 7
    assert [c["id"] for c in admin_api.get("/api/clients").json["items"]] == ids


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=-1", "offset=-1",
                                   "limit=abc", "offset=1.5", "limit="])
def test_bad_list_arguments_are_422(admin_api, query):
    body = assert_error(admin_api.get(f"/api/rooms?{query}"), 422, "validation_error")
    assert body["violations"][0]["field"] in ("limit", "offset")


@pytest.mark.parametrize("url", ["/api/clinicians", "/api/rooms", "/api/sites",
                                 "/api/clients", "/api/closures"])
def test_every_list_has_the_envelope(admin_api, url, make_clinician, make_room, make_client):
    make_clinician(), make_room(), make_client()
    admin_api.post("/api/closures", json={"date": "2026-12-25", "reason": "Closed"})
    r = admin_api.get(url + "?limit=1")
    assert set(r.json) == {"items", "total"}
    assert r.json["total"] >= 1 and len(r.json["items"]) == 1


# -- sites and rooms --------------------------------------------------------------
def test_sites(admin_api):
    r = admin_api.post("/api/sites", json={"name": "North", "address": "1 High Street"})
    assert r.status_code == 201
    assert r.json == {"id": r.json["id"], "name": "North", "address": "1 High Street"}
    assert admin_api.get("/api/sites").json == {"items": [r.json], "total": 1}
    assert_error(admin_api.post("/api/sites", json={"name": "North"}), 409, "conflict")


def test_first_room_without_site_creates_the_main_site(admin_api):
    r = admin_api.post("/api/rooms", json={"name": "Room 1"})
    assert r.status_code == 201, r.json
    assert r.json["capacity"] == 1 and r.json["active"] is True and r.json["attributes"] == []
    sites = admin_api.get("/api/sites").json
    assert sites["total"] == 1 and r.json["site_id"] == sites["items"][0]["id"]
    assert r.json["site_name"] == sites["items"][0]["name"]
    # the next room without a site joins the same one
    assert admin_api.post("/api/rooms", json={"name": "Room 2"}).json["site_id"] == r.json["site_id"]
    assert admin_api.get("/api/sites").json["total"] == 1


def test_create_room_with_everything(admin_api):
    site = admin_api.post("/api/sites", json={"name": "Annex"}).json
    r = admin_api.post("/api/rooms", json={"name": "Group Room", "site_id": site["id"],
                                           "capacity": 10, "active": False,
                                           "attributes": ["accessible"]})
    assert r.status_code == 201, r.json
    assert r.json == {"id": r.json["id"], "name": "Group Room", "site_id": site["id"],
                      "site_name": "Annex", "capacity": 10, "active": False,
                      "attributes": ["accessible"]}
    assert admin_api.get(f"/api/rooms/{r.json['id']}").json == r.json


def test_room_in_unknown_site_is_404(admin_api):
    assert_error(admin_api.post("/api/rooms", json={"name": "R", "site_id": 777}),
                 404, "not_found")
    assert admin_api.get("/api/rooms").json["total"] == 0


def test_update_room(admin_api):
    room = admin_api.post("/api/rooms", json={"name": "R1"}).json
    other = admin_api.post("/api/sites", json={"name": "Other"}).json
    r = admin_api.patch(f"/api/rooms/{room['id']}", json={
        "capacity": 4, "attributes": ["accessible", "quiet"], "site_id": other["id"]})
    assert r.status_code == 200, r.json
    assert r.json["capacity"] == 4 and r.json["site_name"] == "Other"
    assert r.json["attributes"] == ["accessible", "quiet"]
    assert_error(admin_api.patch(f"/api/rooms/{room['id']}", json={"site_id": 999}),
                 404, "not_found")
    assert_error(admin_api.patch(f"/api/rooms/{room['id']}", json={"site_id": None}),
                 422, "validation_error")
    assert admin_api.get(f"/api/rooms/{room['id']}").json == r.json


# -- clients --------------------------------------------------------------------
def test_create_read_update_client(api_as):
    desk = api_as("front_desk")
    r = desk.post("/api/clients", json={"name": "Jordan Example",
                                        "date_of_birth": "1990-02-28",
                                        "email": "jordan@mail.example", "phone": "+44 20 7946 0000"})
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json == {"id": cid, "name": "Jordan Example", "date_of_birth": "1990-02-28",
                      "email": "jordan@mail.example", "phone": "+44 20 7946 0000"}
    assert desk.get(f"/api/clients/{cid}").json == r.json
    r = desk.patch(f"/api/clients/{cid}", json={"phone": None, "date_of_birth": "1990-03-01"})
    assert r.status_code == 200
    assert r.json["phone"] is None and r.json["date_of_birth"] == "1990-03-01"
    assert desk.get(f"/api/clients/{cid}").json == r.json


def test_client_with_only_a_name(admin_api):
    r = admin_api.post("/api/clients", json={"name": "Sam"})
    assert r.status_code == 201
    assert r.json["date_of_birth"] is None and r.json["email"] is None


def test_date_of_birth_in_the_future_is_422(admin_api):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    body = assert_error(admin_api.post("/api/clients", json={"name": "S", "date_of_birth": tomorrow}),
                        422, "validation_error")
    assert body["violations"][0]["field"] == "date_of_birth"


def test_error_messages_never_echo_a_client_name(admin_api):
    r = admin_api.post("/api/clients", json={"name": "Secret Person", "date_of_birth": "2026-02-30"})
    assert r.status_code == 422
    assert "Secret Person" not in r.get_data(as_text=True)


# -- closures -------------------------------------------------------------------
def test_closures(api_as):
    desk = api_as("front_desk")
    admin = api_as("admin")
    site = admin.post("/api/sites", json={"name": "South"}).json
    late = desk.post("/api/closures", json={"date": "2026-12-26", "reason": "Boxing Day"})
    assert late.status_code == 201
    assert late.json == {"id": late.json["id"], "date": "2026-12-26", "reason": "Boxing Day",
                         "site_id": None}
    early = desk.post("/api/closures", json={"date": "2026-12-25", "site_id": site["id"],
                                             "reason": "Christmas"})
    assert early.status_code == 201 and early.json["site_id"] == site["id"]
    assert early.json["reason"] == "Christmas"
    listed = desk.get("/api/closures").json
    assert listed == {"items": [early.json, late.json], "total": 2}  # by date
    assert desk.delete(f"/api/closures/{early.json['id']}").status_code == 204
    assert desk.get("/api/closures").json == {"items": [late.json], "total": 1}
    assert_error(desk.delete(f"/api/closures/{early.json['id']}"), 404, "not_found")


def test_closure_for_unknown_site_is_404(admin_api):
    assert_error(admin_api.post("/api/closures", json={"date": "2026-12-25", "site_id": 55,
                                                       "reason": "Closed"}),
                 404, "not_found")
    assert admin_api.get("/api/closures").json["total"] == 0


def test_closure_needs_a_date(admin_api):
    body = assert_error(admin_api.post("/api/closures", json={"reason": "?"}),
                        422, "validation_error")
    assert body["violations"][0]["field"] == "date"


# -- absences -------------------------------------------------------------------
def test_absences(admin_api, make_clinician):
    cid = make_clinician()
    r = admin_api.post(f"/api/clinicians/{cid}/absences",
                       json={"start_date": "2026-08-10", "end_date": "2026-08-21",
                             "reason": "Annual leave"})
    assert r.status_code == 201, r.json
    assert r.json == {"id": r.json["id"], "clinician_id": cid, "start_date": "2026-08-10",
                      "end_date": "2026-08-21", "reason": "Annual leave"}
    one_day = admin_api.post(f"/api/clinicians/{cid}/absences",
                             json={"start_date": "2026-05-01", "end_date": "2026-05-01"})
    assert one_day.status_code == 201
    listed = admin_api.get(f"/api/clinicians/{cid}/absences").json
    assert listed == {"items": [one_day.json, r.json], "total": 2}  # by start date
    assert admin_api.delete(f"/api/clinicians/{cid}/absences/{r.json['id']}").status_code == 204
    assert admin_api.get(f"/api/clinicians/{cid}/absences").json["total"] == 1
    assert_error(admin_api.delete(f"/api/clinicians/{cid}/absences/{r.json['id']}"),
                 404, "not_found")


def test_absence_ending_before_it_starts_is_422(admin_api, make_clinician):
    cid = make_clinician()
    body = assert_error(admin_api.post(f"/api/clinicians/{cid}/absences",
                                       json={"start_date": "2026-08-10", "end_date": "2026-08-09"}),
                        422, "validation_error")
    assert body["violations"][0]["rule"] == "absence.order"
    assert admin_api.get(f"/api/clinicians/{cid}/absences").json["total"] == 0


def test_absence_of_another_clinician_cannot_be_deleted_through_the_wrong_path(
        admin_api, make_clinician):
    a, b = make_clinician(), make_clinician()
    absence = admin_api.post(f"/api/clinicians/{a}/absences",
                             json={"start_date": "2026-08-10", "end_date": "2026-08-11"}).json
    assert_error(admin_api.delete(f"/api/clinicians/{b}/absences/{absence['id']}"),
                 404, "not_found")
    assert admin_api.get(f"/api/clinicians/{a}/absences").json["total"] == 1


def test_absence_for_unknown_clinician_is_404(admin_api):
    assert_error(admin_api.post("/api/clinicians/31337/absences",
                                json={"start_date": "2026-08-10", "end_date": "2026-08-11"}),
                 404, "not_found")


def test_front_desk_records_absences(api_as, make_clinician):
    cid = make_clinician()
    desk = api_as("front_desk")
    r = desk.post(f"/api/clinicians/{cid}/absences",
                  json={"start_date": "2026-08-10", "end_date": "2026-08-11"})
    assert r.status_code == 201
