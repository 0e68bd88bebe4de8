"""The audit log: one row per write, with who did it, and GET /api/audit.

Rows hold ids and field names, never values: a client's name must not be
copied into the log.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


def audit(api, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    r = api.get(f"/api/audit?limit=500&{query}")
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["items"])
    return r.json["items"]


def only_row(api, object_type: str, object_id: int, action: str) -> dict:
    rows = [r for r in audit(api, object_type=object_type, object_id=object_id)
            if r["action"] == action]
    assert len(rows) == 1, rows
    return rows[0]


def test_every_directory_write_leaves_one_row_naming_the_actor(api_as):
    admin = api_as("admin")
    desk = api_as("front_desk")

    clinician = admin.post("/api/clinicians", json={"name": "Dr Audit", "email": "audit@c.example"}
                           ).json["id"]
    admin.patch(f"/api/clinicians/{clinician}", json={"name": "Dr Audited", "active": False})
    site = admin.post("/api/sites", json={"name": "Audit Site"}).json["id"]
    room = admin.post("/api/rooms", json={"name": "Audit Room", "site_id": site}).json["id"]
    admin.patch(f"/api/rooms/{room}", json={"capacity": 3})
    client = desk.post("/api/clients", json={"name": "Private Person", "phone": "+44 7700 900111"}).json["id"]
    desk.patch(f"/api/clients/{client}", json={"phone": "+44 7700 900222"})
    closure = desk.post("/api/closures", json={"date": "2026-12-25", "reason": "Holiday"}
                        ).json["id"]
    desk.delete(f"/api/closures/{closure}")
    absence = desk.post(f"/api/clinicians/{clinician}/absences",
                        json={"start_date": "2026-08-03", "end_date": "2026-08-07"}).json["id"]
    desk.delete(f"/api/clinicians/{clinician}/absences/{absence}")

    expected = [
        ("clinician", clinician, "create", admin),
        ("clinician", clinician, "update", admin),
        ("site", site, "create", admin),
        ("room", room, "create", admin),
        ("room", room, "update", admin),
        ("client", client, "create", desk),
        ("client", client, "update", desk),
        ("closure", closure, "create", desk),
        ("closure", closure, "delete", desk),
        ("absence", absence, "create", desk),
        ("absence", absence, "delete", desk),
    ]
    now = datetime.now(timezone.utc)
    for object_type, object_id, action, actor in expected:
        row = only_row(admin, object_type, object_id, action)
        assert row["user_id"] == actor.user_id, (object_type, action)
        at = datetime.fromisoformat(row["at"])
        assert now - timedelta(minutes=5) < at <= now + timedelta(seconds=5)

    # what changed is named, not its value
    assert only_row(admin, "clinician", clinician, "update")["details"]["fields"] == [
        "name", "active"]
    assert only_row(admin, "client", client, "update")["details"]["fields"] == ["phone"]
    everything = admin.get("/api/audit?limit=500").get_data(as_text=True)
    for value in ("Private Person", "900111", "900222", "Holiday", "Dr Audited"):
        assert value not in everything


def test_room_without_site_audits_the_site_it_creates(admin_api):
    room = admin_api.post("/api/rooms", json={"name": "First Room"}).json
    site_row = only_row(admin_api, "site", room["site_id"], "create")
    assert site_row["user_id"] == admin_api.user_id
    only_row(admin_api, "room", room["id"], "create")


def test_user_creation_is_audited(admin_api, make_user):
    uid = make_user("front_desk")
    row = only_row(admin_api, "user", uid, "create")
    assert row["details"]["role"] == "front_desk"
    assert "password" not in str(row["details"]).lower()


def test_created_by_cli_user_creation_is_audited(admin_api, runner):
    result = runner.invoke(args=["practice", "create-user", "cli@test.example", "--role", "admin",
                                 "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    rows = [r for r in audit(admin_api, object_type="user", action="create")
            if r["object_id"] != admin_api.user_id]
    assert len(rows) == 1


def test_failed_and_no_op_writes_leave_no_row(admin_api, make_clinician):
    cid = make_clinician()
    before = admin_api.get("/api/audit").json["total"]
    admin_api.post("/api/clinicians", json={"name": "X", "email": "bad"})           # 422
    admin_api.patch(f"/api/clinicians/{cid}", json={"working_hours": [
        {"weekday": 0, "start": "10:00", "end": "09:00"}]})                          # 422
    admin_api.post("/api/rooms", json={"name": "R", "site_id": 9999})                # 404
    admin_api.delete("/api/closures/9999")                                           # 404
    admin_api.patch(f"/api/clinicians/{cid}", json={})                               # no change
    current = admin_api.get(f"/api/clinicians/{cid}").json
    admin_api.patch(f"/api/clinicians/{cid}", json={
        "name": current["name"], "working_hours": current["working_hours"],
        "modalities": current["modalities"]})                                        # the same
    assert admin_api.get("/api/audit").json["total"] == before


def test_filters(api_as):
    admin, desk = api_as("admin"), api_as("front_desk")
    a = desk.post("/api/clients", json={"name": "A"}).json["id"]
    b = desk.post("/api/clients", json={"name": "B"}).json["id"]
    desk.patch(f"/api/clients/{a}", json={"phone": "1"})
    admin.post("/api/sites", json={"name": "S"})

    rows = audit(admin, object_type="client", object_id=a)
    assert [(r["action"], r["object_id"]) for r in rows] == [("update", a), ("create", a)]  # newest first
    assert {r["object_id"] for r in audit(admin, object_type="client")} == {a, b}
    by_desk = audit(admin, user_id=desk.user_id)
    assert len(by_desk) == 3 and all(r["user_id"] == desk.user_id for r in by_desk)
    by_admin = audit(admin, user_id=admin.user_id)
    assert [r["object_type"] for r in by_admin] == ["site"]
    assert audit(admin, object_type="client", action="update") == rows[:1]
    assert audit(admin, object_type="client", object_id=b + 1000) == []

    page = admin.get("/api/audit?object_type=client&limit=1&offset=1").json
    assert page["total"] == 3 and len(page["items"]) == 1
    assert page["items"][0] == audit(admin, object_type="client")[1]


@pytest.mark.parametrize("role", ["front_desk", "clinician"])
def test_audit_is_for_admins_only(api_as, role):
    r = api_as(role).get("/api/audit")
    assert r.status_code == 403 and r.json["error"] == "forbidden"


def test_audit_needs_a_token(anon_api):
    r = anon_api.get("/api/audit")
    assert r.status_code == 401 and r.json["error"] == "unauthorized"
