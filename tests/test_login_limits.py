"""Failed sign-ins are limited in the database (SPEC section 6), through HTTP
against a real gunicorn with 2 workers: 5 failures in 15 minutes for one
account from one address, then 429 with ``Retry-After``, whichever worker
answers, after a restart too, for the API and the sign-in page alike; a
correct password from another address still signs in.

The "other address" is gunicorn's view of the peer: the server listens on
127.0.0.1 and the client connects from 127.0.0.2 (the whole 127/8 is
loopback on Linux).
"""
from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select, update

from practice.extensions import db
from practice.models import AuditEntry
from practice.models.auth import LoginFailure
from server_helpers import gunicorn_server

PASSWORD = "correct horse battery"
EMAIL = "limited@test.example"


class SourceAddressAdapter(HTTPAdapter):
    """requests from a chosen local address (another 'client machine')."""

    def __init__(self, source: str, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def session_from(address: str) -> requests.Session:
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(address))
    return s


def _loopback_alias_works() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


@pytest.fixture
def account(app, make_user):
    return make_user("front_desk", email=EMAIL)


def bad_token_request(http, url, **kw):
    return http.post(url + "/api/tokens", json={"email": EMAIL, "password": "wrong guess"},
                     timeout=30, **kw)


def test_api_limit_holds_across_workers_and_restarts(app, account, db_url):
    with gunicorn_server(db_url, workers=2) as server:
        http = requests.Session()
        statuses = []
        for _ in range(5):
            # a new connection each time, so both workers take turns
            r = bad_token_request(requests, server.url)
            statuses.append(r.status_code)
        assert statuses == [401] * 5
        r = bad_token_request(http, server.url)
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_requests"
        wait = int(r.headers["Retry-After"])
        assert 15 * 60 - 60 <= wait <= 15 * 60
        # the right password from the same address waits too, on any worker
        for _ in range(6):
            r = requests.post(server.url + "/api/tokens",
                              json={"email": EMAIL, "password": PASSWORD}, timeout=30)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        # another address (another client machine) is not locked out
        if _loopback_alias_works():
            other = session_from("127.0.0.2")
            r = other.post(server.url + "/api/tokens",
                           json={"email": EMAIL, "password": PASSWORD}, timeout=30)
            assert r.status_code == 201, r.text

    # a restart forgets nothing
    with gunicorn_server(db_url, workers=2) as server:
        r = requests.post(server.url + "/api/tokens",
                          json={"email": EMAIL, "password": PASSWORD}, timeout=30)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0

    # once the oldest counted failure is older than 15 minutes, one more try
    with app.app_context():
        oldest = db.session.scalar(select(LoginFailure.id).order_by(LoginFailure.at).limit(1))
        at = db.session.scalar(select(LoginFailure.at).where(LoginFailure.id == oldest))
        db.session.execute(update(LoginFailure).where(LoginFailure.id == oldest)
                           .values(at=at - timedelta(minutes=16)))
        db.session.commit()
        # the failures were audited, without the password typed
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sign_in_failed")).all()
        assert len(rows) == 5
        assert all("wrong guess" not in str(r.details) for r in rows)
    with gunicorn_server(db_url, workers=2) as server:
        r = requests.post(server.url + "/api/tokens",
                          json={"email": EMAIL, "password": PASSWORD}, timeout=30)
        assert r.status_code == 201, r.text


def test_sign_in_page_is_limited_alike_and_says_when(app, account, db_url):
    with gunicorn_server(db_url, workers=2) as server:
        def post(password):
            s = requests.Session()
            page = s.get(server.url + "/sign-in", timeout=30)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
            token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
            return s.post(server.url + "/sign-in", timeout=30, allow_redirects=False,
                          data={"email": EMAIL, "password": password,
                                "csrf_token": token.group(1)})

        for _ in range(3):
            assert post("wrong guess").status_code == 401
        # failures through the API and through the page count together
        for _ in range(2):
            assert bad_token_request(requests, server.url).status_code == 401
        r = post("wrong guess")
        assert r.status_code == 429
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
        assert "text/html" in r.headers["Content-Type"]
        assert "Try again in 15 minutes" in r.text
        assert post(PASSWORD).status_code == 429
        r = bad_token_request(requests, server.url)
        assert r.status_code == 429
        if _loopback_alias_works():
            other = session_from("127.0.0.2")
            page = other.get(server.url + "/sign-in", timeout=30)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
            r = other.post(server.url + "/sign-in", timeout=30, allow_redirects=False,
                           data={"email": EMAIL, "password": PASSWORD,
                                 "csrf_token": token.group(1)})
            assert r.status_code == 302, r.text
