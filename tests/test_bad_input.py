"""A battery of bad input: never a 500, always the JSON error shape, and
nothing written.

Every case runs against a practice with one object of each kind, counts the
rows of every table before and after, and checks the answer is
``{"error": CODE, "message": TEXT, ...}`` with the expected status.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from conftest import Api, _empty_tables, base_config
from practice import create_app
from practice.auth import issue_token
from practice.extensions import db
from practice.services.accounts import create_user

HUGE = 99999999999999999999
JSON = "application/json"


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def assert_error_shape(resp, statuses) -> dict:
    body = resp.get_data(as_text=True)
    assert resp.status_code != 500, body
    assert resp.status_code in statuses, (resp.status_code, body)
    assert resp.mimetype == "application/json", body
    data = resp.json
    assert isinstance(data, dict)
    assert isinstance(data.get("error"), str) and data["error"]
    assert isinstance(data.get("message"), str) and data["message"]
    assert "Traceback" not in body and "sqlalchemy" not in body.lower()
    if resp.status_code == 422:
        assert isinstance(data["violations"], list) and data["violations"]
        for v in data["violations"]:
            assert {"rule", "plugin", "message"} <= set(v)
    return data


@pytest.fixture(scope="module")
def bad_app(db_url, tmp_path_factory):
    """One app and practice for the whole battery: every case must leave it
    as it found it, which is what the tests check (and what makes sharing it
    sound, and the battery fast)."""
    app = create_app(base_config(db_url, tmp_path_factory.mktemp("bad")))
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def admin(bad_app):
    with bad_app.app_context():
        user = create_user("battery-admin@test.example", "admin", "correct horse battery")
        token, _ = issue_token(user)
        db.session.commit()
    return Api(bad_app.test_client(), token)


@pytest.fixture(scope="module")
def world(admin, bad_app):
    """One of everything, so PATCH and DELETE paths name real objects."""
    clinician = admin.post("/api/clinicians", json={
        "name": "Dr World", "email": "world@clinic.example",
        "working_hours": [{"weekday": 0, "start": "09:00", "end": "17:00"}]}).json["id"]
    return {
        "clinician": clinician,
        "room": admin.post("/api/rooms", json={"name": "World Room"}).json["id"],
        "client": admin.post("/api/clients", json={"name": "World Client"}).json["id"],
        "closure": admin.post("/api/closures", json={"date": "2026-12-25",
                                                     "reason": "Closed"}).json["id"],
        "absence": admin.post(f"/api/clinicians/{clinician}/absences", json={
            "start_date": "2026-08-03", "end_date": "2026-08-07"}).json["id"],
    }


@pytest.fixture
def check(admin, world, bad_app):
    """``check(method, url, statuses, **request)``: sends it as an admin and
    asserts the error shape and that no row changed."""

    def run(method: str, url: str, statuses, **kw) -> dict:
        before = row_counts(bad_app)
        resp = getattr(admin, method)(url.format(**world), **kw)
        data = assert_error_shape(resp, statuses)
        assert row_counts(bad_app) == before, f"{method} {url} wrote something"
        return data

    return run


WRITES = [
    ("post", "/api/clinicians"),
    ("patch", "/api/clinicians/{clinician}"),
    ("post", "/api/sites"),
    ("post", "/api/rooms"),
    ("patch", "/api/rooms/{room}"),
    ("post", "/api/clients"),
    ("patch", "/api/clients/{client}"),
    ("post", "/api/closures"),
    ("post", "/api/clinicians/{clinician}/absences"),
    ("post", "/api/tokens"),
]


# -- bodies that are not the JSON object a write needs ------------------------------
RAW_BODIES = [
    ("{bad", 400),
    ('{"name": "x",}', 400),
    ('{"name": "x"} trailing', 400),
    ("{'name': 'single quotes'}", 400),
    (b"\xff\xfe\x00{", 400),                      # not UTF-8
    (b'{"name": "caf\xe9"}', 400),               # Latin-1 inside JSON
    ("[" * 100_000, 400),                         # nested past the parser's depth
    ("[1, 2]", 422),
    ('"just a string"', 422),
    ("42", 422),
    ("3.14", 422),
    ("true", 422),
    ("null", 422),
    ("[]", 422),
    ('{"name": "\\u0000"}', 422),                 # NUL: PostgreSQL cannot store it
    ('{"name": "\\ud800"}', 422),                 # a lone surrogate is not UTF-8
    ('{"\\u0000": 1}', 422),
]


@pytest.mark.parametrize("method, url", WRITES)
@pytest.mark.parametrize("raw, status", RAW_BODIES,
                         ids=[repr(r)[:30] for r, _ in RAW_BODIES])
def test_bodies_that_are_not_an_object(check, method, url, raw, status):
    check(method, url, {status}, data=raw, content_type=JSON)


@pytest.mark.parametrize("method, url", [w for w in WRITES if w[0] == "post"])
def test_empty_body_is_422_listing_required_fields(check, method, url):
    data = check(method, url, {422}, data="", content_type=JSON)
    assert all(v["message"] for v in data["violations"])
    check(method, url, {422})  # no body and no content type at all


@pytest.mark.parametrize("method, url", WRITES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml",
                                          None])
def test_wrong_content_type_is_415(check, method, url, content_type):
    body = '{"name": "Looks Like JSON", "email": "a@b.example", "date": "2026-12-25"}'
    kw = {"data": body}
    if content_type:
        kw["content_type"] = content_type
    data = check(method, url, {415}, **kw)
    assert data["error"] == "unsupported_media_type"


def test_body_over_the_size_limit_is_413(check):
    big = json.dumps({"name": "x", "phone": "1" * (3 * 1024 * 1024)})
    check("post", "/api/clients", {413}, data=big, content_type=JSON)


# -- wrong types and values for every field ------------------------------------------
TEXT_BAD = [None, 1, 1.5, True, [], {}, ["x"]]
NAME_BAD = TEXT_BAD + ["", "   ", "x" * 201, "é" * 201, "🦉" * 201]
EMAIL_BAD = [1, True, [], {}, "", "not-an-email", "a@", "@b.example", "a b@c.example",
             "a@b@c.example", "x" * 250 + "@a.example", "<a@b.example>"]
BOOL_BAD = [None, 1, 0, "true", "yes", "", [], {}]
DATE_BAD = [None, "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
            "2026-1-1", "26-01-01", "2026/01/01", "01.02.2026", "", "tomorrow", 20260101,
            "2026-01-01T10:00", [], {}, "99999-01-01", "0000-01-01",
            "0001-01-01", "9999-12-31", "1899-12-31"]
HHMM_BAD = ["24:00", "9:5", "09:60", "9:00", "0900", "09:00:00", "09:0", " 09:00", "ab:cd",
            "", 900, 9.5, None, [], "１０:００"]  # the last: full-width digits
ID_BAD = [1.5, "1", True, 0, -1, HUGE, 2**31, 2**63, [], {}]

FIELD_CASES = {
    ("post", "/api/clinicians"): {
        "_base": {"name": "Dr Valid", "email": "valid@clinic.example"},
        "name": NAME_BAD,
        "email": [None] + EMAIL_BAD,
        "active": BOOL_BAD,
        "modalities": ["ipt", {}, [1], ["IPT"], ["x" * 60], [None], ["a"] * 51, [""], ["1pt"]],
        "working_hours": [
            {}, "mon 9-5", [1], [{}], [{"weekday": 0}], [None],
            [{"weekday": 0, "start": "09:00", "end": "08:00"}],
            [{"weekday": 0, "start": "09:00", "end": "09:00"}],
            [{"weekday": 0, "start": "09:00", "end": "12:00"},
             {"weekday": 0, "start": "11:00", "end": "13:00"}],
            [{"weekday": d % 7, "start": "09:00", "end": "09:10"} for d in range(71)],
            [{"weekday": 0, "start": "09:00", "end": "12:00", "room": 1}],
        ] + [[{"weekday": 0, "start": h, "end": "18:00"}] for h in HHMM_BAD]
          + [[{"weekday": 0, "start": "09:00", "end": h}] for h in HHMM_BAD]
          + [[{"weekday": w, "start": "09:00", "end": "10:00"}]
             for w in (-1, 7, 1.5, "1", True, None, HUGE)],
    },
    ("post", "/api/sites"): {
        "_base": {"name": "A Site"},
        "name": NAME_BAD,
        "address": [1, True, [], "x" * 501],
    },
    ("post", "/api/rooms"): {
        "_base": {"name": "A Room"},
        "name": NAME_BAD,
        "capacity": [None, 1.5, 2.0, "2", True, 0, -1, 501, HUGE, [], {}],
        "active": BOOL_BAD,
        "site_id": ID_BAD,
        "attributes": ["accessible", [1], [""], ["x" * 51], ["a"] * 31, [None], {}],
    },
    ("post", "/api/clients"): {
        "_base": {"name": "A Client"},
        "name": NAME_BAD,
        "date_of_birth": [d for d in DATE_BAD if d is not None]
        + [(date.today() + timedelta(days=2)).isoformat()],
        "email": EMAIL_BAD,
        "phone": [1, True, [], {}, "1" * 51],
    },
    ("post", "/api/closures"): {
        "_base": {"date": "2026-12-24", "reason": "Closed"},
        "date": DATE_BAD,
        "reason": [None, 1, [], "", "   ", "x" * 201],
        "site_id": ID_BAD,
    },
    ("post", "/api/clinicians/{clinician}/absences"): {
        "_base": {"start_date": "2026-09-01", "end_date": "2026-09-02"},
        "start_date": DATE_BAD,
        "end_date": DATE_BAD,
        "reason": [None, 1, [], "x" * 201],
    },
    ("post", "/api/tokens"): {
        "_base": {"email": "someone@test.example", "password": "whatever it is"},
        "email": [None, 1, True, [], {}, "", "x" * 255],
        "password": [None, 1, True, [], {}, "", "x" * 1025],
    },
}
# a PATCH takes the same fields, each alone
for (method, url), cases in list(FIELD_CASES.items()):
    patch_url = {"/api/clinicians": "/api/clinicians/{clinician}", "/api/rooms": "/api/rooms/{room}",
                 "/api/clients": "/api/clients/{client}"}.get(url)
    if patch_url:
        FIELD_CASES[("patch", patch_url)] = {"_base": {}, **{
            k: [v for v in vals if v is not None or k in ("name", "capacity", "active")]
            for k, vals in cases.items() if k != "_base"}}


def _field_params():
    for (method, url), cases in FIELD_CASES.items():
        for field, values in cases.items():
            if field == "_base":
                continue
            for i, value in enumerate(values):
                yield pytest.param(method, url, field, value,
                                   id=f"{method}-{url.split('/')[-1]}-{field}-{i}")


@pytest.mark.parametrize("method, url, field, value", list(_field_params()))
def test_wrong_field_value_is_422_naming_the_field(check, method, url, field, value):
    body = {**FIELD_CASES[(method, url)]["_base"], field: value}
    data = check(method, url, {422}, json=body)
    named = " ".join(str(v.get("field", "")) for v in data["violations"])
    assert field in named, data


@pytest.mark.parametrize("start, end", [("2026-09-03", "2026-09-02"), ("2027-01-01", "2026-12-31")])
def test_absence_ending_before_it_starts_is_422(check, start, end):
    data = check("post", "/api/clinicians/{clinician}/absences", {422},
                 json={"start_date": start, "end_date": end})
    assert data["violations"][0]["rule"] == "absence.order"


@pytest.mark.parametrize("method, url", WRITES)
def test_unknown_fields_are_422(check, method, url):
    data = check(method, url, {422}, json={"no_such_field": 1, "id": 12})
    fields = {v["field"] for v in data["violations"]}
    assert "no_such_field" in fields and "id" in fields  # ids are never set by the caller


@pytest.mark.parametrize("body, status", [
    ({"name": "R", "site_id": 424242}, 404),
])
def test_unknown_referenced_ids_are_404(check, body, status):
    check("post", "/api/rooms", {status}, json=body)
    check("post", "/api/closures", {status}, json={"date": "2026-12-24", "site_id": 424242,
                                                    "reason": "Closed"})


def test_duplicates_are_409_and_write_nothing(check, admin):
    admin.post("/api/clinicians", json={"name": "Dr Dup", "email": "dup@clinic.example"})
    admin.post("/api/sites", json={"name": "Dup Site"})
    check("post", "/api/clinicians", {409}, json={"name": "Dr Dup 2", "email": "DUP@clinic.example"})
    check("post", "/api/sites", {409}, json={"name": "Dup Site"})


# -- paths and query strings ----------------------------------------------------------
@pytest.mark.parametrize("path", [
    f"/api/clinicians/{HUGE}", f"/api/clinicians/{2**31}", f"/api/clinicians/{2**63}",
    "/api/clinicians/0", "/api/clinicians/-1", "/api/clinicians/abc", "/api/clinicians/1.5",
    "/api/clinicians/1e3", "/api/clinicians/%00", "/api/clinicians/1%00", "/api/clinicians/%F0%9F%A6%89",
    f"/api/rooms/{HUGE}", f"/api/clients/{HUGE}", f"/api/clients/{2**31 - 1}",
    f"/api/clinicians/{HUGE}/absences",
])
def test_impossible_ids_in_the_path_are_404(check, path):
    check("get", path, {404})
    if "absences" not in path:
        check("patch", path, {404}, json={"name": "Renamed"})


@pytest.mark.parametrize("method, path", [
    ("delete", f"/api/closures/{HUGE}"),
    ("delete", f"/api/closures/{2**31}"),
    ("delete", "/api/closures/-3"),
    ("delete", f"/api/clinicians/{{clinician}}/absences/{HUGE}"),
    ("delete", f"/api/clinicians/{HUGE}/absences/{{absence}}"),
    ("post", f"/api/clinicians/{2**40}/absences"),
])
def test_impossible_ids_in_deletes_are_404(check, method, path):
    kw = {"json": {"start_date": "2026-09-01", "end_date": "2026-09-02"}} if method == "post" else {}
    check(method, path, {404}, **kw)


@pytest.mark.parametrize("query", [
    "limit=-1", "offset=-1", "limit=0", "limit=501", f"limit={HUGE}", f"offset={HUGE}",
    "limit=abc", "limit=1.5", "limit=", "offset=%00", "limit=%F0%9F%A6%89", "limit=1e2",
    "limit=0x10",
])
@pytest.mark.parametrize("url", ["/api/clinicians", "/api/rooms", "/api/sites", "/api/clients",
                                 "/api/closures", "/api/clinicians/{clinician}/absences",
                                 "/api/audit"])
def test_bad_list_arguments_are_422(check, url, query):
    check("get", f"{url}?{query}", {422})


@pytest.mark.parametrize("query", [
    f"object_id={HUGE}", f"object_id={2**31}", "object_id=-1", "object_id=x",
    f"user_id={HUGE}", "user_id=1.5", "object_type=" + "x" * 41, "action=" + "y" * 41,
    "object_type=a%00b", "action=%00",
])
def test_bad_audit_filters_are_422(check, query):
    check("get", f"/api/audit?{query}", {422})


def test_audit_filter_with_unicode_finds_nothing_but_works(admin):
    r = admin.get("/api/audit?object_type=%F0%9F%A6%89&action=%C3%A9")
    assert r.status_code == 200 and r.json == {"items": [], "total": 0}


# -- things that look odd but are fine ------------------------------------------------
@pytest.mark.parametrize("name", ["Zoë Ångström", "Ωμέγα", "محمد", "李小龙", "🦉 Owl",
                                  "O'Brien-Smith", "a" * 200, "🦉" * 200, "Robert'); DROP TABLE clients;--",
                                  "e\u0301"])
def test_unicode_and_quotes_round_trip(admin, name):
    r = admin.post("/api/clients", json={"name": name})
    assert r.status_code == 201, r.json
    assert admin.get(f"/api/clients/{r.json['id']}").json["name"] == name


def test_leap_day_is_a_date(admin):
    r = admin.post("/api/closures", json={"date": "2028-02-29", "reason": "Closed"})
    assert r.status_code == 201 and r.json["date"] == "2028-02-29"


# -- and whatever else a fuzzer finds ------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                   max_size=4),
    max_leaves=12)
field_names = st.sampled_from(["name", "email", "active", "modalities", "working_hours",
                               "capacity", "site_id", "attributes", "date_of_birth", "phone",
                               "date", "reason", "start_date", "end_date", "password", "address"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(target=st.sampled_from(WRITES), body=json_values
       | st.dictionaries(field_names, json_values, max_size=5))
def test_fuzzed_bodies_never_give_a_500(admin, world, target, body):
    method, url = target
    resp = getattr(admin, method)(url.format(**world), json=body)
    assert resp.status_code < 500, (target, body, resp.get_data(as_text=True))
    if resp.status_code >= 400:
        assert_error_shape(resp, {400, 401, 404, 409, 415, 422})


# -- what a bug looks like from outside --------------------------------------------
@pytest.fixture
def buggy_client(db_url, tmp_path):
    """An app with routes that fail the way bugs do (its own app, no rows)."""
    from sqlalchemy.exc import DataError

    app = create_app(base_config(db_url, tmp_path))

    def boom():
        raise RuntimeError("secret detail: /srv/practice/app.py line 42, client Jane Roe")

    def refused_value():
        raise DataError("INSERT INTO clients ...", {"name": "Jane Roe"}, ValueError("out of range"))

    app.add_url_rule("/api/_test/boom", "boom", boom)
    app.add_url_rule("/api/_test/data-error", "data_error", refused_value)
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_an_unexpected_error_is_a_plain_500_without_details(buggy_client):
    r = buggy_client.get("/api/_test/boom")
    assert r.status_code == 500
    assert r.json == {"error": "internal_error", "message": "Something went wrong."}
    text_ = r.get_data(as_text=True)
    for leak in ("secret detail", "Traceback", "app.py", "Jane Roe", "RuntimeError"):
        assert leak not in text_


def test_a_value_the_database_refuses_is_422_not_500(buggy_client):
    r = buggy_client.get("/api/_test/data-error")
    assert r.status_code == 422 and r.json["error"] == "validation_error"
    assert "Jane Roe" not in r.get_data(as_text=True)
    assert "INSERT" not in r.get_data(as_text=True)
