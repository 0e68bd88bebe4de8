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


# -- append-only in the database ------------------------------------------------
def test_audit_rows_cannot_be_updated_or_deleted_through_sql(app, admin_api):
    """The triggers of migration 0007 refuse UPDATE and DELETE on either
    engine, whoever connects: not only the app's own code paths."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from practice.extensions import db

    admin_api.post("/api/sites", json={"name": "Audited Site"})
    with app.app_context():
        before = db.session.execute(text(
            "SELECT id, action, object_type, details FROM audit_log ORDER BY id")).all()
        db.session.rollback()  # SQLite: let go of the write lock BEGIN IMMEDIATE took
        assert before
        for sql in ("UPDATE audit_log SET action = 'nothing'",
                    "UPDATE audit_log SET user_id = NULL WHERE id = :id",
                    "DELETE FROM audit_log WHERE id = :id",
                    "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError) as err:
                with db.engine.begin() as conn:
                    conn.execute(text(sql), {"id": before[0].id})
            assert "append-only" in str(err.value)
        after = db.session.execute(text(
            "SELECT id, action, object_type, details FROM audit_log ORDER BY id")).all()
        db.session.rollback()
        assert after == before
        # appending still works
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_log (at, action, object_type, details) "
                              "VALUES (CURRENT_TIMESTAMP, 'probe', 'test', '{}')"))


# -- reads, refusals, sign-ins, feeds, users --------------------------------------
def _course_of(app, clinician_id: int, room_id: int, client_ids: list[int]) -> int:
    from datetime import date, time

    from practice.extensions import db
    from practice.models import Course, CourseClient

    with app.app_context():
        course = Course(clinician_id=clinician_id, room_id=room_id, planned_sessions=12,
                        weekday=1, start_time=time(10), duration_minutes=50,
                        interval_weeks=1, first_date=date(2026, 3, 3),
                        timezone="Europe/London")
        course.clients = [CourseClient(client_id=c) for c in client_ids]
        db.session.add(course)
        db.session.commit()
        return course.id


def _own_clinician(app, api) -> int:
    from practice.extensions import db
    from practice.models import User

    with app.app_context():
        return db.session.get(User, api.user_id).clinician_id


def test_reads_of_client_records_are_audited(api_as, make_client, make_room, app):
    admin = api_as("admin")
    desk = api_as("front_desk")
    a, b = make_client(), make_client()
    assert desk.get(f"/api/clients/{a}").status_code == 200
    row = only_row(admin, "client", a, "view")
    assert row["user_id"] == desk.user_id
    assert desk.get("/api/clients?q=Client").status_code == 200
    rows = [r for r in audit(admin, object_type="client", action="list")
            if r["user_id"] == desk.user_id]
    assert len(rows) == 1
    assert sorted(rows[0]["details"]["client_ids"]) == sorted([a, b])
    assert rows[0]["details"]["searched"] is True
    # the search text (part of a name) is not kept
    assert "Client" not in str(rows[0]["details"])


def test_reads_of_clinical_flags_are_audited(api_as, make_room, make_client, app):
    from practice.extensions import db
    from practice.models import CourseFlag

    admin = api_as("admin")
    me = api_as("clinician")
    own = _own_clinician(app, me)
    course = _course_of(app, own, make_room(), [make_client()])
    with app.app_context():
        flag = CourseFlag(course_id=course, code="test.flag", plugin="core",
                          severity="warning", audience="clinical", message="Check this")
        db.session.add(flag)
        db.session.commit()
        flag_id = flag.id
    r = me.get("/api/flags")
    assert r.status_code == 200 and [f["id"] for f in r.json["items"]] == [flag_id]
    rows = [x for x in audit(admin, object_type="flags", action="view")
            if x["user_id"] == me.user_id]
    assert len(rows) == 1 and rows[0]["details"]["flag_ids"] == [flag_id]
    r = me.get(f"/api/courses/{course}")
    assert r.status_code == 200 and [f["id"] for f in r.json["flags"]] == [flag_id]
    row = only_row(admin, "course_flags", course, "view")
    assert row["user_id"] == me.user_id and row["details"]["flag_ids"] == [flag_id]


def test_refused_attempts_on_another_clinicians_objects_are_audited(api_as, make_clinician,
                                                                   make_room, make_client,
                                                                   app):
    admin = api_as("admin")
    me = api_as("clinician")
    other = make_clinician("Dr Other")
    theirs = make_client()
    course = _course_of(app, other, make_room(), [theirs])
    desk = api_as("front_desk")

    assert me.get(f"/api/clients/{theirs}").status_code == 404
    assert me.get(f"/api/courses/{course}").status_code == 404
    assert me.get(f"/api/clinicians/{other}").status_code == 404
    assert desk.get(f"/api/courses/{course}/intake").status_code == 403

    refused = audit(admin, action="refused")
    seen = {(r["object_type"], r["object_id"], r["details"]["status"], r["user_id"])
            for r in refused}
    assert (("client", theirs, 404, me.user_id) in seen
            and ("course", course, 404, me.user_id) in seen
            and ("clinician", other, 404, me.user_id) in seen
            and ("course", course, 403, desk.user_id) in seen), seen
    for r in refused:
        assert r["details"]["route"].startswith("/api/") and "<" in r["details"]["route"]
    # a refused request wrote nothing else
    assert not [r for r in audit(admin, object_type="client", action="view")
                if r["user_id"] == me.user_id]


def test_sign_ins_feed_links_and_user_changes_are_audited(api_as, make_user, make_clinician,
                                                          client):
    admin = api_as("admin")
    uid = make_user("front_desk", email="someone@test.example")
    assert client.post("/api/tokens", json={"email": "someone@test.example",
                                            "password": "wrong password"}).status_code == 401
    assert client.post("/api/tokens", json={"email": "someone@test.example",
                                            "password": "correct horse battery"}
                       ).status_code == 201
    assert client.post("/api/tokens", json={"email": "nobody@test.example",
                                            "password": "whatever it is"}).status_code == 401
    assert only_row(admin, "user", uid, "sign_in_failed")["details"]["via"] == "api"
    assert only_row(admin, "user", uid, "sign_in")["user_id"] == uid
    unknown = [r for r in audit(admin, action="sign_in_failed") if r["object_id"] is None]
    assert len(unknown) == 1 and "nobody" not in str(unknown[0])
    # the sign-in page too
    client.post("/sign-in", data={"email": "someone@test.example", "password": "nope nope"})
    client.post("/sign-in", data={"email": "someone@test.example",
                                  "password": "correct horse battery"})
    vias = [r["details"]["via"] for r in audit(admin, object_type="user", object_id=uid)
            if r["action"] in ("sign_in", "sign_in_failed")]
    assert sorted(vias) == ["api", "api", "page", "page"]

    clinician = make_clinician()
    assert admin.post(f"/api/clinicians/{clinician}/feed", json={}).status_code in (200, 201)
    assert admin.delete(f"/api/clinicians/{clinician}/feed").status_code in (200, 204)
    feed_actions = [r["action"] for r in audit(admin, object_type="feed_token")]
    assert sorted(feed_actions) == ["create", "revoke"]

    admin.patch(f"/api/users/{uid}", json={"role": "admin"})
    admin.post(f"/api/users/{uid}/password", json={"password": "another long one"})
    admin.patch(f"/api/users/{uid}", json={"active": False})
    actions = [r["action"] for r in audit(admin, object_type="user", object_id=uid)]
    assert {"update", "password_reset", "deactivate"} <= set(actions)
    assert only_row(admin, "user", uid, "update")["details"]["role"] == "admin"


def test_no_password_or_token_is_ever_in_the_audit_log(api_as, make_clinician, client, app):
    """Sign in, fail, create users, reset passwords, make feed links and
    tokens: then every audit row, read straight from the table, is searched
    for each secret used."""
    from sqlalchemy import text

    from practice.extensions import db

    admin = api_as("admin")
    secrets_used = ["first secret password", "second secret password", "typo password 1"]
    r = admin.post("/api/users", json={"email": "grep@test.example", "role": "front_desk",
                                       "password": secrets_used[0]})
    uid = r.json["id"]
    tokens = [client.post("/api/tokens", json={"email": "grep@test.example",
                                               "password": secrets_used[0]}).json["token"]]
    client.post("/api/tokens", json={"email": "grep@test.example", "password": secrets_used[2]})
    client.post("/sign-in", data={"email": "grep@test.example", "password": secrets_used[2]})
    client.post("/sign-in", data={"email": secrets_used[2], "password": secrets_used[0]})
    admin.post(f"/api/users/{uid}/password", json={"password": secrets_used[1]})
    tokens.append(client.post("/api/tokens", json={"email": "grep@test.example",
                                                   "password": secrets_used[1]}).json["token"])
    client.delete("/api/tokens/current", headers={"Authorization": f"Bearer {tokens[-1]}"})
    clinician = make_clinician()
    url = admin.post(f"/api/clinicians/{clinician}/feed", json={}).json["url"]
    tokens.append(url.rsplit("/", 1)[1].removesuffix(".ics"))
    tokens.append(admin.token)
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM audit_log")).all()
        from practice.models import User
        hashes = [db.session.get(User, uid).password_hash]
    assert len(rows) >= 8
    dump = "\n".join(" ".join(str(v) for v in row) for row in rows)
    for secret in secrets_used + tokens + hashes:
        assert secret not in dump
    assert "password" not in dump.lower().replace("password_reset", "")
