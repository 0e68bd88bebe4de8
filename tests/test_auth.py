"""Bearer tokens, sign-in failures and their rate limit, and the role rules.

Every request goes through the real HTTP stack of the app (test client) and
a real database; tokens are issued by ``POST /api/tokens`` or by the same
function the endpoint uses.
"""
from __future__ import annotations

import base64
import re
import hashlib
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select, update

from practice.db import utcnow
from practice.extensions import db
from practice.models import ApiToken, Course, CourseClient, User

PASSWORD = "correct horse battery"


def assert_error(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    assert resp.json["error"] == code
    assert isinstance(resp.json["message"], str) and resp.json["message"]


def add_course(app, clinician_id: int, room_id: int, client_ids: list[int]) -> int:
    """A course row written directly: the visibility rules only need its links."""
    with app.app_context():
        course = Course(clinician_id=clinician_id, room_id=room_id, planned_sessions=12,
                        weekday=1, start_time=time(10), duration_minutes=50,
                        interval_weeks=1, first_date=date(2026, 3, 3),
                        timezone="Europe/London")
        course.clients = [CourseClient(client_id=c) for c in client_ids]
        db.session.add(course)
        db.session.commit()
        return course.id


# -- POST /api/tokens -------------------------------------------------------------
def test_token_answers_201_with_token_and_expiry(client, make_user, app):
    make_user("front_desk", email="desk@test.example")
    before = datetime.now(timezone.utc)
    r = client.post("/api/tokens", json={"email": "desk@test.example", "password": PASSWORD})
    assert r.status_code == 201, r.json
    assert set(r.json) == {"token", "expires_at"}
    token = r.json["token"]
    # at least 128 random bits (urlsafe base64 without padding)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16
    expires = datetime.fromisoformat(r.json["expires_at"])
    assert expires.tzinfo is not None
    hours = app.config["TOKEN_LIFETIME_HOURS"]
    assert before + timedelta(hours=hours) - timedelta(minutes=1) <= expires
    assert expires <= datetime.now(timezone.utc) + timedelta(hours=hours)

    # the token works, and only its hash is stored
    assert client.get("/api/rooms", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        hashes = db.session.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert token not in hashes


def test_each_sign_in_gives_a_different_token(client, make_user):
    make_user("admin", email="twice@test.example")
    body = {"email": "twice@test.example", "password": PASSWORD}
    assert client.post("/api/tokens", json=body).json["token"] != \
        client.post("/api/tokens", json=body).json["token"]


def test_email_is_matched_without_case_or_spaces(client, make_user):
    make_user("admin", email="Mixed.Case@Test.example")
    r = client.post("/api/tokens", json={"email": "  mixed.case@test.EXAMPLE ",
                                         "password": PASSWORD})
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("body", [
    {"email": "known@test.example", "password": "wrong password"},
    {"email": "nobody@test.example", "password": PASSWORD},
    {"email": "known@test.example", "password": PASSWORD.upper()},
])
def test_wrong_credentials_answer_401_alike(client, make_user, body, app):
    make_user("admin", email="known@test.example")
    r = client.post("/api/tokens", json=body)
    assert_error(r, 401, "unauthorized")
    # the same words whether the email exists or not
    assert r.json["message"] == "Unknown email or wrong password."
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0


def test_inactive_user_cannot_sign_in_and_their_tokens_stop(client, make_user, token_for, app):
    uid = make_user("admin", email="gone@test.example")
    token = token_for(uid)
    with app.app_context():
        db.session.execute(update(User).where(User.id == uid).values(active=False))
        db.session.commit()
    r = client.post("/api/tokens", json={"email": "gone@test.example", "password": PASSWORD})
    assert_error(r, 401, "unauthorized")
    r = client.get("/api/rooms", headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 401, "unauthorized")


def test_token_request_without_fields_is_422(client):
    r = client.post("/api/tokens", json={})
    assert_error(r, 422, "validation_error")
    assert {v["field"] for v in r.json["violations"]} == {"email", "password"}


# -- bearer authentication ------------------------------------------------------
API_READS = ["/api/clinicians", "/api/rooms", "/api/sites", "/api/clients", "/api/closures",
             "/api/audit", "/api/clinicians/1", "/api/rooms/1", "/api/clients/1",
             "/api/clinicians/1/absences"]


@pytest.mark.parametrize("url", API_READS)
def test_no_token_is_401_json(anon_api, url):
    r = anon_api.get(url)
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "bearer" + " x" * 3,
    "Token abc",
])
def test_bad_token_is_401(client, header, admin_api):
    r = client.get("/api/clinicians", headers={"Authorization": header})
    assert_error(r, 401, "unauthorized")


def test_writes_without_token_are_401_and_write_nothing(anon_api, app):
    r = anon_api.post("/api/clients", json={"name": "Anon Client"})
    assert_error(r, 401, "unauthorized")
    r = anon_api.post("/api/clinicians", json={"name": "Dr X", "email": "x@test.example"})
    assert_error(r, 401, "unauthorized")
    with app.app_context():
        from practice.models import Client, Clinician
        assert db.session.scalar(select(db.func.count()).select_from(Client)) == 0
        assert db.session.scalar(select(db.func.count()).select_from(Clinician)) == 0


def test_expired_token_is_401(admin_api, app):
    assert admin_api.get("/api/rooms").status_code == 200
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_error(admin_api.get("/api/rooms"), 401, "unauthorized")


def test_token_just_before_expiry_still_works(admin_api, app):
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() + timedelta(seconds=30)))
        db.session.commit()
    assert admin_api.get("/api/rooms").status_code == 200


def test_lowercase_bearer_scheme_is_accepted(client, make_user, token_for):
    token = token_for(make_user("admin"))
    assert client.get("/api/rooms", headers={"Authorization": f"bearer {token}"}).status_code == 200


# -- limit on failed sign-ins (the database-backed limiter; see test_login_limits) --
class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LOGIN_LIMIT_ENABLED": True, "LOGIN_MAX_FAILURES": 3}

    def test_failed_attempts_are_limited_with_a_json_429(self, client, make_user):
        make_user("admin", email="target@test.example")
        bad = {"email": "target@test.example", "password": "guess"}
        for _ in range(3):
            assert client.post("/api/tokens", json=bad).status_code == 401
        r = client.post("/api/tokens", json=bad)
        assert_error(r, 429, "too_many_requests")
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
        # once locked out, even the right password waits (from this address)
        r = client.post("/api/tokens", json={"email": "target@test.example",
                                              "password": PASSWORD})
        assert r.status_code == 429

    def test_successful_sign_ins_do_not_count(self, client, make_user):
        make_user("admin", email="busy@test.example")
        good = {"email": "busy@test.example", "password": PASSWORD}
        bad = {"email": "busy@test.example", "password": "guess"}
        for _ in range(2):
            assert client.post("/api/tokens", json=bad).status_code == 401
        for _ in range(5):
            assert client.post("/api/tokens", json=good).status_code == 201
        assert client.post("/api/tokens", json=bad).status_code == 401
        assert client.post("/api/tokens", json=bad).status_code == 429

    def test_limit_is_per_email(self, client, make_user):
        make_user("admin", email="one@test.example")
        make_user("admin", email="two@test.example")
        for _ in range(4):
            client.post("/api/tokens", json={"email": "one@test.example", "password": "x"})
        r = client.post("/api/tokens", json={"email": "two@test.example", "password": PASSWORD})
        assert r.status_code == 201


# -- role rules -----------------------------------------------------------------
def test_front_desk_cannot_create_a_clinician(api_as, app):
    desk = api_as("front_desk")
    r = desk.post("/api/clinicians", json={"name": "Dr New", "email": "new@test.example"})
    assert_error(r, 403, "forbidden")
    with app.app_context():
        from practice.models import Clinician
        assert db.session.scalar(select(db.func.count()).select_from(Clinician)) == 0


@pytest.mark.parametrize("role, method, url, body", [
    ("front_desk", "post", "/api/rooms", {"name": "R"}),
    ("front_desk", "post", "/api/sites", {"name": "S"}),
    ("front_desk", "patch", "/api/clinicians/{clinician}", {"name": "Renamed"}),
    ("front_desk", "patch", "/api/rooms/{room}", {"name": "Renamed"}),
    ("front_desk", "get", "/api/audit", None),
    ("clinician", "post", "/api/clinicians", {"name": "Dr Y", "email": "y@test.example"}),
    ("clinician", "post", "/api/clients", {"name": "Some Client"}),
    ("clinician", "patch", "/api/clients/{client}", {"phone": "123"}),
    ("clinician", "post", "/api/closures", {"date": "2026-12-25", "reason": "Closed"}),
    ("clinician", "delete", "/api/closures/{closure}", None),
    ("clinician", "post", "/api/rooms", {"name": "R"}),
    ("clinician", "patch", "/api/clinicians/{own}", {"name": "Self-renamed"}),
    ("clinician", "get", "/api/audit", None),
])
def test_role_may_not(api_as, make_clinician, make_room, make_client, admin_api,
                      role, method, url, body):
    ids = {"clinician": make_clinician(), "room": make_room(), "client": make_client()}
    ids["closure"] = admin_api.post("/api/closures", json={"date": "2026-12-24",
                                                           "reason": "Closed"}).json["id"]
    caller = api_as(role)
    if role == "clinician":
        with caller.client.application.app_context():
            ids["own"] = db.session.get(User, caller.user_id).clinician_id
    kw = {"json": body} if body is not None else {}
    r = getattr(caller, method)(url.format(**ids), **kw)
    assert_error(r, 403, "forbidden")


def test_front_desk_manages_clients_and_closures(api_as):
    desk = api_as("front_desk")
    r = desk.post("/api/clients", json={"name": "New Client"})
    assert r.status_code == 201
    assert desk.patch(f"/api/clients/{r.json['id']}", json={"phone": "0123"}).status_code == 200
    r = desk.post("/api/closures", json={"date": "2026-12-25", "reason": "Christmas"})
    assert r.status_code == 201
    assert desk.delete(f"/api/closures/{r.json['id']}").status_code == 204
    assert desk.get("/api/clinicians").status_code == 200
    assert desk.get("/api/rooms").status_code == 200


def test_clinician_sees_only_their_own_clinician_record(api_as, make_clinician, app):
    other = make_clinician("Dr Other")
    me = api_as("clinician")
    with app.app_context():
        own = db.session.get(User, me.user_id).clinician_id
    r = me.get("/api/clinicians")
    assert r.status_code == 200
    assert [c["id"] for c in r.json["items"]] == [own] and r.json["total"] == 1
    assert me.get(f"/api/clinicians/{own}").status_code == 200
    # someone else's record is hidden, not forbidden: 404 as if it did not exist
    r = me.get(f"/api/clinicians/{other}")
    assert_error(r, 404, "not_found")
    assert r.json == me.get("/api/clinicians/999999").json | {
        "message": f"Clinician {other} does not exist."}
    assert_error(me.get(f"/api/clinicians/{other}/absences"), 404, "not_found")
    r = me.post(f"/api/clinicians/{other}/absences",
                json={"start_date": "2026-07-01", "end_date": "2026-07-02"})
    assert_error(r, 404, "not_found")


def test_clinician_sees_only_clients_of_their_own_courses(api_as, make_clinician, make_room,
                                                          make_client, app):
    me = api_as("clinician")
    with app.app_context():
        own = db.session.get(User, me.user_id).clinician_id
    other = make_clinician("Dr Other")
    room = make_room()
    mine_a, mine_b, theirs, nobodys = (make_client() for _ in range(4))
    add_course(app, own, room, [mine_a, mine_b])
    add_course(app, other, room, [theirs])
    add_course(app, own, room, [mine_a])  # a second course: still listed once

    r = me.get("/api/clients")
    assert r.status_code == 200
    assert [c["id"] for c in r.json["items"]] == sorted([mine_a, mine_b])
    assert r.json["total"] == 2
    assert me.get(f"/api/clients/{mine_a}").status_code == 200
    for hidden in (theirs, nobodys):
        r = me.get(f"/api/clients/{hidden}")
        assert_error(r, 404, "not_found")
        assert r.json["message"] == f"Client {hidden} does not exist."

    # the other clinician's view is the mirror image
    them = api_as("clinician", clinician_id=other)
    assert [c["id"] for c in them.get("/api/clients").json["items"]] == [theirs]
    assert them.get(f"/api/clients/{mine_a}").status_code == 404


def test_clinician_without_courses_sees_no_clients(api_as, make_client):
    make_client()
    me = api_as("clinician")
    assert me.get("/api/clients").json == {"items": [], "total": 0}


def test_clinician_manages_own_absences(api_as, app):
    me = api_as("clinician")
    with app.app_context():
        own = db.session.get(User, me.user_id).clinician_id
    r = me.post(f"/api/clinicians/{own}/absences",
                json={"start_date": "2026-08-03", "end_date": "2026-08-14", "reason": "Leave"})
    assert r.status_code == 201, r.json
    assert me.get(f"/api/clinicians/{own}/absences").json["total"] == 1
    assert me.delete(f"/api/clinicians/{own}/absences/{r.json['id']}").status_code == 204


# -- every /api route, including those of other packages and plugins -------------
PUBLIC = {("/api/tokens", "POST"), ("/api/openapi.json", "GET")}


def _every_route_needs_a_token(app, client):
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.rule, method) in PUBLIC:
                continue
            kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            r = getattr(client, method.lower())(url, **kw)
            assert r.status_code == 401, (method, rule.rule, r.status_code)
            assert r.json["error"] == "unauthorized"
            seen += 1
    assert seen >= 20  # the walk really found the API


def test_every_api_route_needs_a_token(app, client):
    _every_route_needs_a_token(app, client)


class TestWithPlugins:
    @pytest.fixture
    def app_config(self, app_config):
        from practice.plugin_manager import available_plugins

        return {**app_config, "PRACTICE_PLUGINS": ",".join(sorted(available_plugins()))}

    def test_every_api_route_needs_a_token(self, app, client):
        _every_route_needs_a_token(app, client)
