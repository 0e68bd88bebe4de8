"""Feed links through the API: create, rotate, revoke, roles, validation,
OpenAPI, and what is stored (the token's hash, never the token)."""
from __future__ import annotations

import hashlib
import time as clock
from datetime import date

import pytest
from feeds_factory import make_course

from practice.extensions import db
from practice.models import AuditEntry, FeedToken


@pytest.fixture
def clinician_api(api_as, make_clinician):
    clinician_id = make_clinician("Dr Own")
    api = api_as("clinician", clinician_id=clinician_id)
    api.clinician_id = clinician_id
    return api


def feed_path(url: str) -> str:
    return "/feeds/" + url.rsplit("/feeds/", 1)[1]


def test_clinician_creates_own_link(client, clinician_api):
    resp = clinician_api.post(f"/api/clinicians/{clinician_api.clinician_id}/feed")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["privacy"] == "initials"
    assert body["warning"] is None
    assert body["url"].startswith("http://localhost/feeds/") and body["url"].endswith(".ics")
    assert body["webcal_url"] == "webcal://" + body["url"].split("://", 1)[1]
    token = feed_path(body["url"])[len("/feeds/"):-len(".ics")]
    assert len(token) >= 43  # 32 random bytes
    got = client.get(feed_path(body["url"]), buffered=True)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_only_the_hash_is_stored(app, clinician_api):
    url = clinician_api.post(f"/api/clinicians/{clinician_api.clinician_id}/feed",
                             json={"privacy": "busy"}).json["url"]
    token = feed_path(url)[len("/feeds/"):-len(".ics")]
    with app.app_context():
        row = db.session.scalar(db.select(FeedToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.privacy == "busy"
        audit = db.session.scalars(db.select(AuditEntry)
                                   .where(AuditEntry.object_type == "feed_token")).all()
        assert [a.action for a in audit] == ["create"]
        assert token not in repr([a.details for a in audit])


def test_full_privacy_comes_with_a_warning(clinician_api):
    resp = clinician_api.post(f"/api/clinicians/{clinician_api.clinician_id}/feed",
                              json={"privacy": "full"})
    assert resp.status_code == 201
    assert resp.json["privacy"] == "full"
    assert "full names" in resp.json["warning"]


@pytest.mark.parametrize("body", [{"privacy": "everything"}, {"privacy": 3},
                                  {"privacy": None}, {"colour": "red"}])
def test_bad_body_is_422_and_changes_nothing(app, clinician_api, body):
    resp = clinician_api.post(f"/api/clinicians/{clinician_api.clinician_id}/feed", json=body)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"] == "validation_error"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FeedToken.id))) == 0


def test_rotation_kills_the_old_link_at_once(app, client, clinician_api):
    url = f"/api/clinicians/{clinician_api.clinician_id}/feed"
    old = feed_path(clinician_api.post(url).json["url"])
    assert client.get(old, buffered=True).status_code == 200
    rotated = clinician_api.post(url, json={"privacy": "busy"})
    answered = clock.monotonic()
    assert client.get(old, buffered=True).status_code == 404
    # The very next request, within the same second of the rotation's answer.
    assert clock.monotonic() - answered < 1.0
    new = feed_path(rotated.json["url"])
    assert client.get(new, buffered=True).status_code == 200
    with app.app_context():
        rows = db.session.scalars(db.select(FeedToken).order_by(FeedToken.id)).all()
        assert [r.revoked_at is None for r in rows] == [False, True]
        actions = db.session.scalars(db.select(AuditEntry.action)
                                     .where(AuditEntry.object_type == "feed_token")
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["create", "rotate"]


def test_revoke(client, clinician_api):
    url = f"/api/clinicians/{clinician_api.clinician_id}/feed"
    link = feed_path(clinician_api.post(url).json["url"])
    assert clinician_api.get(url).json["active"] is True
    assert clinician_api.delete(url).status_code == 204
    assert client.get(link, buffered=True).status_code == 404
    assert clinician_api.get(url).json == {"active": False, "privacy": None,
                                           "created_at": None, "last_fetched_at": None}
    again = clinician_api.delete(url)
    assert again.status_code == 404 and again.json["error"] == "not_found"


def test_status_shows_last_fetch(client, clinician_api):
    url = f"/api/clinicians/{clinician_api.clinician_id}/feed"
    link = feed_path(clinician_api.post(url).json["url"])
    assert clinician_api.get(url).json["last_fetched_at"] is None
    client.get(link, buffered=True)
    status = clinician_api.get(url).json
    assert status["active"] is True and status["privacy"] == "initials"
    assert status["last_fetched_at"] is not None


def test_who_may_manage_clinician_feeds(api_as, admin_api, clinician_api, make_clinician):
    other = make_clinician("Dr Other")
    path = f"/api/clinicians/{other}/feed"
    # Another clinician's record does not exist for a clinician.
    assert clinician_api.post(path).status_code == 404
    assert clinician_api.get(path).status_code == 404
    assert clinician_api.delete(path).status_code == 404
    front = api_as("front_desk")
    assert front.post(path).status_code == 403
    assert front.get(path).status_code == 403
    assert admin_api.post(path).status_code == 201
    assert admin_api.delete(path).status_code == 204
    assert admin_api.post("/api/clinicians/999999/feed").status_code == 404


def test_who_may_manage_room_feeds(api_as, admin_api, clinician_api, make_room):
    room = make_room("Room 7")
    path = f"/api/rooms/{room}/feed"
    assert clinician_api.post(path).status_code == 403
    front = api_as("front_desk")
    created = front.post(path, json={"privacy": "busy"})
    assert created.status_code == 201 and created.json["privacy"] == "busy"
    assert admin_api.get(path).json["active"] is True
    assert front.delete(path).status_code == 204
    assert front.post("/api/rooms/424242/feed").status_code == 404


def test_needs_a_token(anon_api, make_clinician, make_room):
    clinician, room = make_clinician(), make_room()
    for path in (f"/api/clinicians/{clinician}/feed", f"/api/rooms/{room}/feed"):
        assert anon_api.post(path).status_code == 401
        assert anon_api.delete(path).status_code == 401


def test_feed_routes_are_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").json
    for path in ("/api/clinicians/{clinician_id}/feed", "/api/rooms/{room_id}/feed"):
        assert set(doc["paths"][path]) >= {"get", "post", "delete"}
    post = doc["paths"]["/api/clinicians/{clinician_id}/feed"]["post"]
    assert "201" in post["responses"]
    schemas = doc["components"]["schemas"]
    assert schemas["FeedLinkRequest"]["properties"]["privacy"]["enum"] == [
        "busy", "initials", "full"]


def test_room_feed_end_to_end(app, client, api_as, make_clinician, make_room, make_client):
    clinician, room, person = make_clinician("Dr Room"), make_room("Room 9"), make_client()
    with app.app_context():
        make_course(clinician_id=clinician, room_id=room, client_ids=[person],
                    first=date.today(), weeks=2, tz=app.config["PRACTICE_TIMEZONE"])
    url = api_as("front_desk").post(f"/api/rooms/{room}/feed").json["url"]
    body = client.get(feed_path(url), buffered=True).data
    assert body.count(b"BEGIN:VEVENT") == 2
    assert b"LOCATION:Room 9\r\n" in body
