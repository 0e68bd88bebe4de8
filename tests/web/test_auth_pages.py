"""Sign-in pages, the role guard, HTML errors and the API's session auth."""
from __future__ import annotations

import re

import pytest

from practice import create_app
from practice.extensions import db

PASSWORD = "correct horse battery"


def sign_in(client, email, password=PASSWORD, next_path=None):
    data = {"email": email, "password": password}
    if next_path:
        data["next"] = next_path
    return client.post("/sign-in", data=data)


@pytest.fixture
def front_desk(make_user):
    return make_user("front_desk", email="desk@test.example")


def test_signed_out_page_goes_to_sign_in_and_comes_back(client, front_desk):
    r = client.get("/clients?q=Ann")
    assert r.status_code == 302
    assert r.location.startswith("/sign-in?next=")
    r = sign_in(client, "desk@test.example", next_path="/clients?q=Ann")
    assert r.status_code == 302 and r.location == "/clients?q=Ann"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, front_desk, target):
    r = sign_in(client, "desk@test.example", next_path=target)
    assert r.status_code == 302
    assert r.location.startswith("/calendar")


def test_each_role_has_its_start_page(client, make_user):
    make_user("clinician", email="doc@test.example")
    r = sign_in(client, "doc@test.example")
    assert r.location.startswith("/calendar") and "view=week" in r.location
    client.post("/sign-out")
    make_user("front_desk", email="desk2@test.example")
    r = sign_in(client, "desk2@test.example")
    assert "view=day" in r.location


def test_wrong_password_is_401_and_keeps_the_email(client, front_desk):
    r = sign_in(client, "desk@test.example", password="wrong")
    assert r.status_code == 401
    assert "Unknown email or wrong password" in r.text
    assert 'value="desk@test.example"' in r.text


def test_inactive_user_cannot_sign_in(app, client, make_user):
    from practice.models import User

    uid = make_user("front_desk", email="gone@test.example")
    with app.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    assert sign_in(client, "gone@test.example").status_code == 401


def test_role_guard_gives_the_403_page(client, make_user):
    make_user("clinician", email="doc@test.example")
    sign_in(client, "doc@test.example")
    r = client.get("/closures")
    assert r.status_code == 403
    assert r.mimetype == "text/html" and "Not allowed" in r.text


def test_pages_are_never_cached(client, front_desk):
    sign_in(client, "desk@test.example")
    r = client.get("/calendar")
    assert r.headers["Cache-Control"] == "no-store"


def test_unknown_page_is_html_and_unknown_api_route_json(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "Page not found" in r.text
    r = client.get("/api/no/such/route")
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_the_api_accepts_the_signed_in_session_for_reads(client, front_desk):
    assert client.get("/api/clinicians").status_code == 401
    sign_in(client, "desk@test.example")
    r = client.get("/api/clinicians")
    assert r.status_code == 200 and r.json["items"] == []


def test_session_cookie_flags(client, front_desk):
    r = sign_in(client, "desk@test.example")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


# -- with CSRF switched on, as in production --------------------------------------
@pytest.fixture
def csrf_app(app_config):
    config = dict(app_config, WTF_CSRF_ENABLED=True, PRACTICE_ENV="production",
                  PRACTICE_BASE_URL="https://practice.example")
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()


def _token(client) -> str:
    html = client.get("/sign-in").text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_secure_cookie_in_production(csrf_app, make_user):
    make_user("front_desk", email="desk@test.example")
    c = csrf_app.test_client()
    r = c.post("/sign-in", data={"email": "desk@test.example", "password": PASSWORD,
                                 "csrf_token": _token(c)})
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"]


def test_forms_and_cookie_authenticated_writes_need_the_csrf_token(csrf_app, make_user):
    from practice.models import Client

    make_user("front_desk", email="desk@test.example")
    c = csrf_app.test_client()
    r = c.post("/sign-in", data={"email": "desk@test.example", "password": PASSWORD})
    assert r.status_code == 400 and "security token" in r.text
    assert c.get("/calendar").status_code == 302  # still signed out
    token = _token(c)
    c.post("/sign-in", data={"email": "desk@test.example", "password": PASSWORD,
                             "csrf_token": token})
    assert c.get("/api/clinicians").status_code == 200  # reads need no token
    r = c.post("/api/clients", json={"name": "Ann Example"})
    assert r.status_code == 400 and "CSRF" in r.json["message"]
    with csrf_app.app_context():
        assert db.session.query(Client).count() == 0
    r = c.post("/api/clients", json={"name": "Ann Example"}, headers={"X-CSRFToken": token})
    assert r.status_code == 201
    assert c.post("/sign-out").status_code == 400  # sign-out is a form too
