"""``flask --app wsgi practice ...``: create-user, demo and plugins.

Commands run through Flask's CLI runner against the real database; their
effect is checked in the database and through the API.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from practice.extensions import db
from practice.models import AuditEntry, Client, Clinician, Room, Site, User, WorkingHours

PW = "a long enough password"


def users(app) -> list[User]:
    with app.app_context():
        rows = db.session.scalars(select(User).order_by(User.id)).all()
        db.session.expunge_all()
        return rows


def create_user(runner, *args, input=None):
    return runner.invoke(args=["practice", "create-user", *args], input=input)


def sign_in(client, email, password):
    return client.post("/api/tokens", json={"email": email, "password": password})


# -- create-user ----------------------------------------------------------------
def test_create_user_with_password_option(runner, app, client):
    result = create_user(runner, "admin@clinic.example", "--role", "admin", "--password", PW)
    assert result.exit_code == 0, result.output
    assert "Created admin user admin@clinic.example" in result.output
    [user] = users(app)
    assert user.email == "admin@clinic.example" and user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")
    assert PW not in user.password_hash
    assert sign_in(client, "admin@clinic.example", PW).status_code == 201


def test_create_user_prompts_twice_for_a_hidden_password(runner, app, client):
    result = create_user(runner, "desk@clinic.example", "--role", "front_desk",
                         input=f"{PW}\n{PW}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat for confirmation" in result.output
    assert PW not in result.output  # hidden: never echoed
    assert sign_in(client, "desk@clinic.example", PW).status_code == 201


def test_prompt_asks_again_when_the_two_entries_differ(runner, app, client):
    result = create_user(runner, "desk@clinic.example", "--role", "front_desk",
                         input=f"first attempt 1\nfirst attempt 2\n{PW}\n{PW}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert sign_in(client, "desk@clinic.example", PW).status_code == 201
    assert sign_in(client, "desk@clinic.example", "first attempt 1").status_code == 401


def test_prompt_with_no_input_aborts_without_a_user(runner, app):
    result = create_user(runner, "desk@clinic.example", "--role", "front_desk", input="")
    assert result.exit_code != 0
    assert users(app) == []


@pytest.mark.parametrize("role", ["superuser", "Admin", "front-desk", ""])
def test_bad_role_is_a_clear_error(runner, app, role):
    result = create_user(runner, "x@clinic.example", "--role", role, "--password", PW)
    assert result.exit_code != 0
    assert f"Unknown role {role!r}" in result.output
    assert "admin, front_desk, clinician" in result.output
    assert "Traceback" not in result.output
    assert users(app) == []


def test_bad_role_is_refused_before_asking_for_a_password(runner, app):
    result = create_user(runner, "x@clinic.example", "--role", "root", input=f"{PW}\n{PW}\n")
    assert result.exit_code != 0
    assert "Password" not in result.output


def test_missing_role_is_a_usage_error(runner, app):
    result = create_user(runner, "x@clinic.example", "--password", PW)
    assert result.exit_code == 2 and "--role" in result.output


def test_duplicate_email_is_a_clear_error(runner, app):
    assert create_user(runner, "Dup@Clinic.example", "--role", "admin",
                       "--password", PW).exit_code == 0
    result = create_user(runner, "dup@clinic.EXAMPLE", "--role", "front_desk", "--password", PW)
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output
    assert [u.role for u in users(app)] == ["admin"]


def test_clinician_account_needs_a_clinician_id(runner, app):
    result = create_user(runner, "dr@clinic.example", "--role", "clinician", "--password", PW)
    assert result.exit_code == 1
    assert "--clinician-id" in result.output
    assert users(app) == []


@pytest.mark.parametrize("cid", ["424242", "0", "-5", "99999999999", "99999999999999999999"])
def test_unknown_clinician_id_is_a_clear_error(runner, app, cid):
    result = create_user(runner, "dr@clinic.example", "--role", "clinician",
                         "--clinician-id", cid, "--password", PW)
    assert result.exit_code == 1, result.output
    assert f"Clinician {cid} does not exist" in result.output
    assert users(app) == []


def test_non_numeric_clinician_id_is_a_usage_error(runner, app):
    result = create_user(runner, "dr@clinic.example", "--role", "clinician",
                         "--clinician-id", "okafor", "--password", PW)
    assert result.exit_code == 2 and "not a valid integer" in result.output
    assert users(app) == []


def test_clinician_account_is_linked_and_sees_its_record(runner, app, client, make_clinician):
    cid = make_clinician("Dr Linked")
    result = create_user(runner, "linked@clinic.example", "--role", "clinician",
                         "--clinician-id", str(cid), "--password", PW)
    assert result.exit_code == 0, result.output
    [user] = users(app)
    assert user.clinician_id == cid and user.role == "clinician"
    token = sign_in(client, "linked@clinic.example", PW).json["token"]
    r = client.get("/api/clinicians", headers={"Authorization": f"Bearer {token}"})
    assert [c["name"] for c in r.json["items"]] == ["Dr Linked"]


@pytest.mark.parametrize("email", ["not-an-email", "@clinic.example", "someone@", "a b@c.example",
                                   "x" * 250 + "@c.example"])
def test_bad_email_is_a_clear_error(runner, app, email):
    result = create_user(runner, email, "--role", "admin", "--password", PW)
    assert result.exit_code == 1 and "is not an email address" in result.output
    assert users(app) == []


def test_short_password_is_refused(runner, app):
    result = create_user(runner, "a@clinic.example", "--role", "admin", "--password", "short")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    assert users(app) == []


# -- demo ---------------------------------------------------------------------
def all_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_loads_a_small_practice(runner, app, client):
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    assert count(app, Site) == 1
    assert count(app, Room) == 4
    assert count(app, Clinician) == 5
    assert count(app, Client) == 20
    with app.app_context():
        # every clinician has working hours and modalities
        for c in db.session.scalars(select(Clinician)):
            assert c.working_hours and c.modalities
        assert db.session.scalar(select(func.count(func.distinct(WorkingHours.clinician_id)))) == 5
        roles = sorted(db.session.scalars(select(User.role)))
    assert roles == ["admin", "clinician", "front_desk"]
    # the printed logins work
    logins = [line.split() for line in result.output.splitlines() if "password:" in line]
    assert len(logins) == 3
    for role, email, _, password in logins:
        assert sign_in(client, email, password).status_code == 201, (role, email)


def test_demo_token_lists_the_demo_clinicians(runner, client):
    """The README's curl: a demo token lists the demo clinicians."""
    output = runner.invoke(args=["practice", "demo"]).output
    line = next(ln for ln in output.splitlines() if "frontdesk@demo.practice" in ln)
    password = line.split("password:")[1].strip()
    token = sign_in(client, "frontdesk@demo.practice", password).json["token"]
    r = client.get("/api/clinicians", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["total"] == 5
    assert "Dr Ada Okafor" in [c["name"] for c in r.json["items"]]


def test_demo_twice_changes_nothing(runner, app):
    first = runner.invoke(args=["practice", "demo"])
    assert first.exit_code == 0, first.output
    before = all_counts(app)
    with app.app_context():
        hashes = dict(db.session.execute(select(User.email, User.password_hash)).all())
    second = runner.invoke(args=["practice", "demo"])
    assert second.exit_code == 0, second.output
    assert all_counts(app) == before
    assert "nothing changed" in second.output
    # the logins are printed again, and still the same
    assert [ln for ln in second.output.splitlines() if "password:" in ln] == \
        [ln for ln in first.output.splitlines() if "password:" in ln]
    with app.app_context():
        assert dict(db.session.execute(select(User.email, User.password_hash)).all()) == hashes


def test_demo_fills_in_only_what_is_missing(runner, app, make_clinician):
    # a practice that already has one of the demo clinicians (by email)
    make_clinician("Dr A. Okafor (existing)", email="okafor@demo.practice")
    assert runner.invoke(args=["practice", "demo"]).exit_code == 0
    assert count(app, Clinician) == 5
    assert count(app, Clinician, Clinician.email == "okafor@demo.practice") == 1
    before = all_counts(app)
    assert runner.invoke(args=["practice", "demo"]).exit_code == 0
    assert all_counts(app) == before


def test_demo_users_are_audited(runner, app):
    runner.invoke(args=["practice", "demo"])
    assert count(app, AuditEntry, AuditEntry.object_type == "user",
                 AuditEntry.action == "create") == 3


# -- plugins ----------------------------------------------------------------------
def test_plugins_command_runs(runner):
    result = runner.invoke(args=["practice", "plugins"])
    assert result.exit_code == 0, result.output
    assert result.output.strip()
