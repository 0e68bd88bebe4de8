"""Accounts can be cut off (SPEC section 4): ``DELETE /api/tokens/current``
and ``/api/users`` (admins). A password reset or a deactivation ends every
token and browser session of the user at once, whichever gunicorn worker
answers next.
"""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from practice.extensions import db
from practice.models import AuditEntry, User
from server_helpers import gunicorn_server

PASSWORD = "correct horse battery"


def test_delete_current_token_revokes_only_that_token(client, make_user, app):
    make_user("front_desk", email="desk@test.example")
    body = {"email": "desk@test.example", "password": PASSWORD}
    one = client.post("/api/tokens", json=body).json["token"]
    two = client.post("/api/tokens", json=body).json["token"]
    h1, h2 = ({"Authorization": f"Bearer {t}"} for t in (one, two))
    assert client.get("/api/rooms", headers=h1).status_code == 200
    assert client.delete("/api/tokens/current", headers=h1).status_code == 204
    r = client.get("/api/rooms", headers=h1)
    assert r.status_code == 401 and r.json["error"] == "unauthorized"
    assert client.delete("/api/tokens/current", headers=h1).status_code == 401
    assert client.get("/api/rooms", headers=h2).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke",
                                                          AuditEntry.object_type == "api_token"))
        assert row is not None and one not in str(row.details)


def test_users_are_for_admins_only(api_as, anon_api):
    assert anon_api.get("/api/users").status_code == 401
    for role in ("front_desk", "clinician"):
        caller = api_as(role)
        assert caller.get("/api/users").status_code == 403
        r = caller.post("/api/users", json={"email": "x@test.example", "role": "admin",
                                            "password": "long enough pw"})
        assert r.status_code == 403
        assert caller.patch(f"/api/users/{caller.user_id}", json={"role": "admin"}
                            ).status_code == 403


def test_admin_lists_creates_and_changes_users(admin_api, make_clinician, app):
    clinician = make_clinician()
    r = admin_api.post("/api/users", json={"email": "new@test.example", "role": "front_desk",
                                           "password": "long enough pw"})
    assert r.status_code == 201, r.json
    new = r.json
    assert set(new) == {"id", "email", "role", "clinician_id", "active", "created_at"}
    listed = admin_api.get("/api/users").json
    assert listed["total"] == 2
    assert {u["email"] for u in listed["items"]} >= {"new@test.example"}
    assert "password" not in str(listed) and "hash" not in str(listed)

    r = admin_api.patch(f"/api/users/{new['id']}",
                        json={"role": "clinician", "clinician_id": clinician})
    assert r.status_code == 200, r.json
    assert (r.json["role"], r.json["clinician_id"]) == ("clinician", clinician)
    assert admin_api.get("/api/users?role=clinician").json["total"] == 1

    # the new account signs in with its password
    r = admin_api.client.post("/api/tokens", json={"email": "new@test.example",
                                                    "password": "long enough pw"})
    assert r.status_code == 201

    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "user", AuditEntry.object_id == new["id"])
            .order_by(AuditEntry.id)).all()
        assert [r.action for r in rows] == ["create", "update", "sign_in"]
        assert rows[1].details["role"] == "clinician" and rows[1].user_id == admin_api.user_id


@pytest.mark.parametrize("body, status, field", [
    ({"email": "a@test.example", "role": "clinician", "password": "long enough pw"}, 422,
     "clinician_id"),
    ({"email": "a@test.example", "role": "clinician", "password": "long enough pw",
      "clinician_id": 999999}, 422, "clinician_id"),
    ({"email": "a@test.example", "role": "boss", "password": "long enough pw"}, 422, "role"),
    ({"email": "a@test.example", "role": "admin", "password": "short"}, 422, "password"),
    ({"email": "not an email", "role": "admin", "password": "long enough pw"}, 422, "email"),
    ({"email": "taken@test.example", "role": "admin", "password": "long enough pw"}, 409, None),
])
def test_bad_new_users_are_refused_and_change_nothing(admin_api, make_user, body, status,
                                                      field, app):
    make_user("admin", email="taken@test.example")
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(User))
    r = admin_api.post("/api/users", json=body)
    assert r.status_code == status, r.json
    if field:
        assert field in {v.get("field") for v in r.json["violations"]}
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == before


def test_bad_changes_are_refused(admin_api, make_user):
    desk = make_user("front_desk")
    assert admin_api.patch("/api/users/999999", json={"active": False}).status_code == 404
    assert admin_api.patch(f"/api/users/{desk}", json={"role": "clinician"}).status_code == 422
    assert admin_api.patch(f"/api/users/{desk}", json={"clinician_id": "1"}).status_code == 422
    assert admin_api.post(f"/api/users/{desk}/password", json={"password": "short"}
                          ).status_code == 422
    # an admin cannot lock themselves out
    r = admin_api.patch(f"/api/users/{admin_api.user_id}", json={"active": False})
    assert r.status_code == 422
    r = admin_api.patch(f"/api/users/{admin_api.user_id}", json={"role": "front_desk"})
    assert r.status_code == 422
    assert admin_api.get("/api/users").status_code == 200


def test_users_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/users"])
    assert {"get", "patch"} <= set(paths["/api/users/{user_id}"])
    assert "post" in paths["/api/users/{user_id}/password"]
    assert "delete" in paths["/api/tokens/current"]


# -- through gunicorn with 2 workers ------------------------------------------------
def _browser_session(url: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(url + "/sign-in", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    r = s.post(url + "/sign-in", data={"email": email, "password": password,
                                       "csrf_token": token}, allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    return s


def _works_everywhere(cookies, token, url) -> list[int]:
    """Status of the cookie and of the token on several fresh connections (both
    workers take turns accepting them)."""
    out = []
    for _ in range(4):
        out.append(requests.get(url + "/api/rooms", cookies=cookies, timeout=30).status_code)
        out.append(requests.get(url + "/api/rooms", timeout=30,
                                headers={"Authorization": f"Bearer {token}"}).status_code)
    return out


@pytest.mark.parametrize("cut_off", ["password_reset", "deactivate"])
def test_reset_or_deactivation_ends_every_token_and_session(app, make_user, token_for,
                                                            db_url, cut_off):
    victim = make_user("front_desk", email="victim@test.example")
    admin_token = token_for(make_user("admin"))
    admin = {"Authorization": f"Bearer {admin_token}"}
    with gunicorn_server(db_url, workers=2) as server:
        browser = _browser_session(server.url, "victim@test.example", PASSWORD)
        token = requests.post(server.url + "/api/tokens", timeout=30, json={
            "email": "victim@test.example", "password": PASSWORD}).json()["token"]
        assert _works_everywhere(browser.cookies, token, server.url) == [200] * 8
        # the page itself too
        assert browser.get(server.url + "/calendar", allow_redirects=False,
                           timeout=30).status_code == 200

        if cut_off == "password_reset":
            r = requests.post(f"{server.url}/api/users/{victim}/password", headers=admin,
                              json={"password": "a brand new one"}, timeout=30)
            assert r.status_code == 204, r.text
        else:
            r = requests.patch(f"{server.url}/api/users/{victim}", headers=admin,
                               json={"active": False}, timeout=30)
            assert r.status_code == 200 and r.json()["active"] is False, r.text

        assert _works_everywhere(browser.cookies, token, server.url) == [401] * 8
        r = browser.get(server.url + "/calendar", allow_redirects=False, timeout=30)
        assert r.status_code == 302 and "/sign-in" in r.headers["Location"]
        if cut_off == "password_reset":
            # the new password signs in again; the old one does not
            assert requests.post(server.url + "/api/tokens", timeout=30, json={
                "email": "victim@test.example", "password": PASSWORD}).status_code == 401
            assert requests.post(server.url + "/api/tokens", timeout=30, json={
                "email": "victim@test.example",
                "password": "a brand new one"}).status_code == 201
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_id == victim, AuditEntry.action == cut_off)).all()
        assert len(rows) == 1
        assert "a brand new one" not in str(rows[0].details)
