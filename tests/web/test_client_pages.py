"""Client pages (server side): the list and its search, a client's page with
their courses, create and edit with the API's own schema."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from .page_html import element, has_id, text, value

PASSWORD = "correct horse battery"


def sign_in(client, email):
    r = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.text
    return client


@pytest.fixture
def world(make_clinician, make_room, make_client, make_user, api_as):
    ids = {"okafor": make_clinician("Dr Ada Okafor"), "room": make_room("Room One"),
           "ann": make_client("Ann Lovelace", date_of_birth=date(1980, 1, 31),
                              email="ann@example.org", phone="+44 7700 900111"),
           "bo": make_client("Bo Lovell", date_of_birth=date(1975, 6, 1)),
           "cy": make_client("Cy Turing")}
    make_user("front_desk", email="desk@test.example")
    make_user("clinician", clinician_id=ids["okafor"], email="okafor@test.example")
    ids["api"] = api_as("front_desk")
    return ids


@pytest.fixture
def desk_page(client, world):
    return sign_in(client, "desk@test.example")


def listed(page: str) -> list[str]:
    if not has_id(page, "clients-table"):
        return []
    body = element(page, "clients-table")
    return [text(cell) for cell in body.split("<tr>")[2:] for cell in [cell.split("</td>")[0]]]


def test_list_is_by_name_with_contact_details(desk_page, world):
    r = desk_page.get("/clients")
    assert r.status_code == 200
    assert listed(r.text) == ["Ann Lovelace", "Bo Lovell", "Cy Turing"]
    assert "31 Jan 1980" in r.text and "ann@example.org" in r.text
    assert f'href="/clients/{world["ann"]}"' in r.text


def test_search_by_name_fragment_keeps_the_name_out_of_the_address(desk_page, world):
    r = desk_page.post("/clients", data={"q": "LOVE"})
    assert r.status_code == 303 and r.location == "/clients"
    r = desk_page.get("/clients")
    assert listed(r.text) == ["Ann Lovelace", "Bo Lovell"]
    assert value(r.text, "client-q") == "LOVE"
    assert "2 clients match “LOVE”" in text(r.text)
    # "Show all" forgets the search
    desk_page.post("/clients", data={"q": "LOVE", "clear": "1"})
    assert len(listed(desk_page.get("/clients").text)) == 3


def test_search_by_date_of_birth(desk_page, world):
    desk_page.post("/clients", data={"q": " 1975-06-01 "})
    assert listed(desk_page.get("/clients").text) == ["Bo Lovell"]


def test_search_in_the_query_string_works_as_in_the_api(desk_page, world):
    assert listed(desk_page.get("/clients?q=turing").text) == ["Cy Turing"]
    r = desk_page.get("/clients?q=nobody")
    assert listed(r.text) == [] and "No client matches" in r.text


def test_client_page_shows_contact_details_and_courses(desk_page, world):
    r = world["api"].post("/api/courses", json={
        "clinician_id": world["okafor"], "room_id": world["room"], "client_ids": [world["ann"]],
        "first_date": "2030-03-04", "start_time": "10:00", "duration_minutes": 50,
        "session_count": 4})
    assert r.status_code == 201
    page = desk_page.get(f"/clients/{world['ann']}").text
    main = text(element(page, "main"))
    assert "Ann Lovelace" in main and "31 January 1980" in main
    assert "ann@example.org" in main and "+44 7700 900111" in main
    assert f'href="/courses/{r.json["id"]}"' in page
    assert "session 1 of 4" in main and "Dr Ada Okafor" in main
    assert "No course yet." in desk_page.get(f"/clients/{world['cy']}").text


def test_create_a_client(desk_page, world):
    r = desk_page.post("/clients/new", data={"name": "  Dee Newcomer ",
                                             "date_of_birth": "1990-05-17",
                                             "email": "dee@example.org", "phone": ""})
    assert r.status_code == 303
    new_id = int(r.location.rsplit("/", 1)[1])
    assert r.location == f"/clients/{new_id}"
    c = world["api"].get(f"/api/clients/{new_id}").json
    assert c == {"id": new_id, "name": "Dee Newcomer", "date_of_birth": "1990-05-17",
                 "email": "dee@example.org", "phone": None}
    page = desk_page.get(r.location).text
    assert "Client created." in page
    assert text(element(page, "main")).startswith("Client created.")


@pytest.mark.parametrize("dob, message", [
    ((date.today() + timedelta(days=1)).isoformat(), "today"),  # "...to today" / "future"
    ("1980-02-30", "Not a valid date"),
    ("31/01/1980", "Not a valid date"),
])
def test_create_with_a_bad_date_of_birth_keeps_what_was_typed(desk_page, world, dob, message):
    r = desk_page.post("/clients/new", data={"name": "Eve Typed", "date_of_birth": dob,
                                             "email": "eve@example.org", "phone": "0123"})
    assert r.status_code == 422
    said = text(element(r.text, "e-date_of_birth"))
    assert message in said or (message == "today" and "future" in said), said
    assert 'aria-invalid="true"' in element(r.text, "f-date_of_birth")
    assert "autofocus" in element(r.text, "f-date_of_birth")  # the field to correct
    assert r.text.count("autofocus") == 1
    assert value(r.text, "f-name") == "Eve Typed"
    assert 'maxlength="200" autocomplete="off">' in element(r.text, "f-name")
    assert value(r.text, "f-date_of_birth") == dob
    assert value(r.text, "f-email") == "eve@example.org" and value(r.text, "f-phone") == "0123"
    assert world["api"].get("/api/clients?q=Eve").json["total"] == 0


def test_create_without_a_name(desk_page, world):
    r = desk_page.post("/clients/new", data={"name": "   ", "email": "x@example.org"})
    assert r.status_code == 422
    assert "Required." in text(element(r.text, "e-name"))
    assert value(r.text, "f-email") == "x@example.org"


def test_edit_changes_and_clears_fields(desk_page, world):
    cid = world["ann"]
    page = desk_page.get(f"/clients/{cid}/edit").text
    assert value(page, "f-name") == "Ann Lovelace"
    assert value(page, "f-date_of_birth") == "1980-01-31"
    r = desk_page.post(f"/clients/{cid}/edit", data={
        "name": "Ann Lovelace-King", "date_of_birth": "1980-01-31", "email": "",
        "phone": "+44 7700 900999"})
    assert r.status_code == 303 and r.location == f"/clients/{cid}"
    c = world["api"].get(f"/api/clients/{cid}").json
    assert c["name"] == "Ann Lovelace-King" and c["email"] is None
    assert c["phone"] == "+44 7700 900999" and c["date_of_birth"] == "1980-01-31"
    assert "Client details saved." in desk_page.get(r.location).text
    # a refused edit keeps what was typed and changes nothing
    r = desk_page.post(f"/clients/{cid}/edit",
                       data={"name": "Ann Changed", "email": "not-an-email"})
    assert r.status_code == 422
    assert "Not a valid email address" in text(element(r.text, "e-email"))
    assert value(r.text, "f-name") == "Ann Changed"
    assert world["api"].get(f"/api/clients/{cid}").json["name"] == "Ann Lovelace-King"


def test_flash_messages_name_no_client(desk_page, world):
    r = desk_page.post(f"/clients/{world['bo']}/edit", data={"name": "Bo Lovell", "phone": "1"})
    with desk_page.session_transaction() as s:
        flashes = s.get("_flashes", [])
    assert flashes and all("Bo" not in m and "Lovell" not in m for _, m in flashes)
    assert r.location == f"/clients/{world['bo']}"


def test_clinician_has_no_client_pages(client, world):
    sign_in(client, "okafor@test.example")
    for path in ("/clients", f"/clients/{world['ann']}", "/clients/new",
                 f"/clients/{world['ann']}/edit"):
        r = client.get(path)
        assert r.status_code == 403 and r.mimetype == "text/html", path
    assert client.post("/clients/new", data={"name": "X"}).status_code == 403


@pytest.mark.parametrize("path", ["/clients/0", "/clients/-3", "/clients/99999999999",
                                  "/clients/99999/edit", "/clients/abc", "/clients?offset=abc"])
def test_bad_ids_are_the_404_page(desk_page, world, path):
    r = desk_page.get(path)
    if "offset" in path:
        assert r.status_code == 200  # an unusable offset is the first page
        return
    assert r.status_code == 404 and r.mimetype == "text/html"


def test_names_are_html_escaped(desk_page, world, make_client):
    evil = make_client("<script>alert(1)</script>")
    for page in (desk_page.get("/clients").text, desk_page.get(f"/clients/{evil}").text,
                 desk_page.get(f"/clients/{evil}/edit").text):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_reading_client_records_is_audited_as_in_the_api(desk_page, world, api_as):
    admin = api_as("admin")

    def reads(**filters):
        return [(r["action"], r["object_id"], r["details"])
                for r in admin.get("/api/audit", query_string={
                    "object_type": "client", "limit": 500, **filters}).json["items"]
                if r["action"] in ("list", "view")]

    before = len(reads())
    desk_page.post("/clients", data={"q": "Lovell"})
    desk_page.get("/clients")
    desk_page.get(f"/clients/{world['bo']}")
    rows = reads()[before:]
    assert ("list", None, {"client_ids": [world["bo"]], "searched": True}) in rows
    assert ("view", world["bo"], {}) in rows
    assert all("Lovell" not in str(r) for r in rows)  # never the search text
