"""``GET /api/sessions?from=&to=``: the sessions in a range, for calendars."""
from __future__ import annotations

import pytest

from practice.extensions import db
from practice.models import Site

WEEK = "from=2030-03-04&to=2030-03-10"  # Monday to Sunday, both included


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


@pytest.fixture
def book(desk):
    def book(clinician_id, room_id, client_ids, first_date="2030-03-04", start_time="10:00",
             count=4, **kw):
        r = desk.post("/api/courses", json={
            "clinician_id": clinician_id, "room_id": room_id, "client_ids": client_ids,
            "first_date": first_date, "start_time": start_time, "duration_minutes": 50,
            "session_count": count, **kw})
        assert r.status_code == 201, r.json
        return r.json

    return book


@pytest.fixture
def two_sites(app):
    with app.app_context():
        sites = [Site(name="North"), Site(name="South")]
        db.session.add_all(sites)
        db.session.commit()
        return [s.id for s in sites]


def items(r) -> list[dict]:
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["items"])
    return r.json["items"]


def test_an_item_has_the_calendar_fields(desk, book, make_clinician, make_room, make_client):
    doc, room = make_clinician(), make_room()
    ada = make_client("Ada Lovelace")
    course = book(doc, room, [ada])
    [item] = items(desk.get(f"/api/sessions?{WEEK}"))
    assert item == {
        "id": course["sessions"][0]["id"], "course_id": course["id"], "number": 1,
        "position": 1, "count": 4,
        "starts_at": "2030-03-04T10:00:00+00:00", "ends_at": "2030-03-04T10:50:00+00:00",
        "room_id": room, "site_id": item["site_id"], "clinician_id": doc,
        "status": "scheduled", "phase": None, "modality": "general",
        "clients": [{"id": ada, "name": "Ada Lovelace", "initials": "AL"}]}
    assert isinstance(item["site_id"], int)


def test_range_is_local_days_both_included(desk, book, make_clinician, make_room, make_client):
    book(make_clinician(), make_room(), [make_client()], count=3)  # 4, 11 and 18 March
    starts = lambda q: [i["starts_at"][:10] for i in items(desk.get(f"/api/sessions?{q}"))]  # noqa: E731
    assert starts("from=2030-03-04&to=2030-03-04") == ["2030-03-04"]
    assert starts("from=2030-03-05&to=2030-03-11") == ["2030-03-11"]
    assert starts("from=2030-03-04&to=2030-03-18") == ["2030-03-04", "2030-03-11", "2030-03-18"]
    assert starts("from=2030-03-19&to=2030-03-31") == []


def test_local_offset_in_summer_and_session_ends_crossing_midnight_edge(
        desk, book, make_clinician, make_room, make_client):
    # London summer time: the answer carries +01:00, and the local day counts
    book(make_clinician(), make_room(), [make_client()], first_date="2030-07-01",
         start_time="00:10", count=1)
    [item] = items(desk.get("/api/sessions?from=2030-07-01&to=2030-07-01"))
    assert item["starts_at"] == "2030-07-01T00:10:00+01:00"
    assert items(desk.get("/api/sessions?from=2030-06-30&to=2030-06-30")) == []


@pytest.mark.parametrize("query", [
    "from=2030-03-01&to=2030-04-12",        # 43 days
    "from=2030-03-10&to=2030-03-09",        # to before from
    "from=0001-01-01&to=0001-01-07",        # year 1
    "from=9999-12-25&to=9999-12-31",        # year 9999
    "from=1999-12-31&to=2000-01-02",        # before the scheduling range
    "from=2199-12-31&to=2200-01-01",        # after it
    "from=10000-01-01&to=10000-01-02",      # no date at all
    "from=2030-02-30&to=2030-03-02",
    "from=2030-03-04",                      # to missing
    "to=2030-03-04",
    f"{WEEK}&clinician_id=0",
    f"{WEEK}&room_id=abc",
    f"{WEEK}&site_id=99999999999",
])
def test_bad_ranges_are_422(desk, query):
    r = desk.get(f"/api/sessions?{query}")
    assert r.status_code == 422, r.json
    assert r.json["error"] == "validation_error"
    assert r.json["violations"]


def test_42_days_is_allowed(desk):
    assert desk.get("/api/sessions?from=2030-03-01&to=2030-04-11").status_code == 200
    assert desk.get("/api/sessions?from=2199-11-20&to=2199-12-31").status_code == 200
    assert desk.get("/api/sessions?from=2000-01-01&to=2000-01-01").status_code == 200


def test_roles_and_login(api_as, anon_api):
    assert anon_api.get(f"/api/sessions?{WEEK}").status_code == 401
    for role in ("admin", "front_desk", "clinician"):
        assert api_as(role).get(f"/api/sessions?{WEEK}").status_code == 200


def test_clinician_sees_only_their_own(api_as, book, make_clinician, make_room, make_client):
    mine, theirs = make_clinician(), make_clinician()
    own = book(mine, make_room(), [make_client("Own Client")])
    book(theirs, make_room(), [make_client("Secret Client")])
    doctor = api_as("clinician", clinician_id=mine)
    got = items(doctor.get(f"/api/sessions?{WEEK}"))
    assert [i["course_id"] for i in got] == [own["id"]]
    assert items(doctor.get(f"/api/sessions?{WEEK}&clinician_id={mine}")) == got
    # asking for another clinician's id gives none of their data
    r = doctor.get(f"/api/sessions?{WEEK}&clinician_id={theirs}")
    assert items(r) == []
    assert "Secret" not in r.get_data(as_text=True)
    # a clinician user not linked to a clinician sees nothing
    assert items(api_as("clinician").get(f"/api/sessions?{WEEK}")) == []


def test_filters_by_clinician_room_and_site(desk, book, two_sites, make_clinician, make_room,
                                            make_client):
    north, south = two_sites
    d1, d2 = make_clinician(), make_clinician()
    r1, r2 = make_room(site_id=north), make_room(site_id=south)
    a = book(d1, r1, [make_client()])
    b = book(d2, r2, [make_client()])
    course_ids = lambda q: {i["course_id"] for i in items(desk.get(f"/api/sessions?{WEEK}{q}"))}  # noqa: E731
    assert course_ids("") == {a["id"], b["id"]}
    assert course_ids(f"&clinician_id={d1}") == {a["id"]}
    assert course_ids(f"&room_id={r2}") == {b["id"]}
    assert course_ids(f"&site_id={north}") == {a["id"]}
    assert course_ids(f"&site_id={south}") == {b["id"]}
    assert course_ids(f"&site_id={north}&clinician_id={d2}") == set()
    assert course_ids("&room_id=4242") == set()
    [item] = items(desk.get(f"/api/sessions?{WEEK}&site_id={south}"))
    assert (item["site_id"], item["room_id"], item["clinician_id"]) == (south, r2, d2)


def test_k_of_n_after_a_cancellation(desk, book, make_clinician, make_room, make_client):
    course = book(make_clinician(), make_room(), [make_client()], count=4)
    cid = course["id"]
    assert desk.post(f"/api/courses/{cid}/sessions/1/cancel",
                     json={"by": "client"}).status_code == 200
    got = items(desk.get("/api/sessions?from=2030-03-01&to=2030-04-11"))
    # cancelled sessions are listed (the calendar strikes them through), uncounted
    assert [(i["number"], i["status"], i["position"], i["count"]) for i in got] == [
        (1, "cancelled_by_client", None, 4), (2, "scheduled", 1, 4),
        (3, "scheduled", 2, 4), (4, "scheduled", 3, 4)]
    # the same k as the course page shows
    page = desk.get(f"/api/courses/{cid}").json["sessions"]
    assert {s["id"]: s["position"] for s in page} == {i["id"]: i["position"] for i in got}
    # and a range that starts after the cancellation still counts from the start
    [third] = items(desk.get("/api/sessions?from=2030-03-18&to=2030-03-18"))
    assert (third["number"], third["position"]) == (3, 2)
    # the cancelled session keeps its client on the calendar
    assert got[0]["clients"] and got[0]["clients"][0]["id"] == course["client_ids"][0]


def test_k_of_n_with_a_make_up_outside_the_range(desk, book, make_clinician, make_room,
                                                 make_client):
    course = book(make_clinician(), make_room(), [make_client()], count=3)
    cid = course["id"]
    r = desk.post(f"/api/courses/{cid}/sessions/2/cancel", json={"by": "practice",
                                                              "make_up": True})
    assert r.status_code == 200 and r.json["make_up"], r.json
    page = {s["id"]: s["position"] for s in desk.get(f"/api/courses/{cid}").json["sessions"]}
    for q in ("from=2030-03-01&to=2030-04-11", "from=2030-03-01&to=2030-03-12"):
        got = items(desk.get(f"/api/sessions?{q}"))
        assert {i["id"]: i["position"] for i in got} == {i["id"]: page[i["id"]] for i in got}


def test_group_course_lists_every_client(desk, book, make_clinician, make_room, make_client):
    room = make_room(capacity=3)
    ids = [make_client("Zebediah Quux-Testperson"), make_client("Mary Ann Evans")]
    book(make_clinician(), room, ids, count=1)
    [item] = items(desk.get(f"/api/sessions?{WEEK}"))
    assert item["clients"] == [
        {"id": ids[0], "name": "Zebediah Quux-Testperson", "initials": "ZQ"},
        {"id": ids[1], "name": "Mary Ann Evans", "initials": "ME"}]


def test_order_and_paging(desk, book, make_clinician, make_room, make_client):
    book(make_clinician(), make_room(), [make_client()], start_time="14:00", count=2)
    book(make_clinician(), make_room(), [make_client()], start_time="09:00", count=2)
    got = items(desk.get("/api/sessions?from=2030-03-01&to=2030-03-31"))
    assert [i["starts_at"] for i in got] == sorted(i["starts_at"] for i in got)
    r = desk.get("/api/sessions?from=2030-03-01&to=2030-03-31&limit=2&offset=1")
    assert r.json["total"] == 4
    assert [i["id"] for i in r.json["items"]] == [i["id"] for i in got[1:3]]


class TestWithIpt:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PRACTICE_PLUGINS": "ipt"}

    def test_phase_is_the_plugins_as_the_course_page_shows(self, desk, book, make_clinician,
                                                            make_room, make_client):
        doc, room = make_clinician(modalities=("general", "ipt")), make_room()
        ipt = book(doc, room, [make_client()], modality="ipt", count=16)
        plain = book(doc, room, [make_client()], start_time="12:00", count=4)
        assert desk.post(f"/api/courses/{ipt['id']}/sessions/1/cancel",
                         json={"by": "client"}).status_code == 200
        page = {s["id"]: (s["position"], s["phase"])
                for s in desk.get(f"/api/courses/{ipt['id']}").json["sessions"]}
        got = items(desk.get("/api/sessions?from=2030-03-01&to=2030-04-11"))
        mine = [i for i in got if i["course_id"] == ipt["id"]]
        assert len(mine) == 6
        assert {i["id"]: (i["position"], i["phase"]) for i in mine} == \
            {i["id"]: page[i["id"]] for i in mine}
        assert [i["phase"] for i in mine] == [None, "initial", "initial", "initial",
                                              "middle", "middle"]
        assert {i["phase"] for i in got if i["course_id"] == plain["id"]} == {None}
        assert {i["modality"] for i in mine} == {"ipt"}


def test_answer_is_documented(client, desk, book, make_clinician, make_room, make_client):
    from openapi_schema_validator import OAS30Validator

    book(make_clinician(), make_room(), [make_client()])
    doc = client.get("/api/openapi.json").json
    op = doc["paths"]["/api/sessions"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"from", "to", "clinician_id", "room_id",
                                                     "site_id"}
    schema = {"$ref": "#/components/schemas/CalendarSessionList",
              "components": doc["components"]}
    r = desk.get(f"/api/sessions?{WEEK}")
    assert items(r)
    OAS30Validator(schema).validate(r.json)
