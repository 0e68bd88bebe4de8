"""``flask --app wsgi practice ...``: create-user, demo and plugins.

Commands run through Flask's CLI runner against the real database; their
effect is checked in the database and through the API.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from practice.db import utcnow
from practice.extensions import db
from practice.models import (Absence, AuditEntry, Client, Clinician, ClinicianModality, Closure,
                             Course, Room, Site, TherapySession, User, WorkingHours)
from practice.services.accounts import create_user as create_account
from practice.services.booking import book_course
from practice.services.calendar import practice_zone
from practice.services.modalities import enabled_modalities

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
@pytest.fixture
def app_config(app_config, request):
    """Per test (indirect parametrization): extra settings, e.g. plugins."""
    return {**app_config, **getattr(request, "param", {})}


BOTH = pytest.mark.parametrize("app_config", [{"PRACTICE_PLUGINS": ""},
                                              {"PRACTICE_PLUGINS": "ipt"}],
                               indirect=True, ids=["core", "ipt"])


def all_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def printed_logins(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if "password:" in line]


@BOTH
def test_demo_loads_a_practice_that_looks_real(runner, app, client):
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    assert count(app, Site) == 2
    assert count(app, Room) >= 6
    assert count(app, Room, Room.capacity >= 6) >= 1  # a group room
    assert count(app, Clinician) >= 6
    assert 28 <= count(app, Client) <= 36
    with app.app_context():
        for c in db.session.scalars(select(Clinician)):
            assert c.working_hours and c.modalities
        # some clinicians work several blocks a day, and not all the same hours
        blocks = db.session.execute(select(WorkingHours.clinician_id, WorkingHours.weekday,
                                           WorkingHours.start, WorkingHours.end)).all()
        per_day = Counter((cid, day) for cid, day, _, _ in blocks)
        assert sum(1 for n in per_day.values() if n >= 2) >= 10
        assert len({frozenset((d, a, b) for c2, d, a, b in blocks if c2 == cid)
                    for cid, *_ in blocks}) >= 5
        for c in db.session.scalars(select(Client)):
            assert c.date_of_birth and c.phone and c.email.endswith("@example.org")
        roles = sorted(db.session.scalars(select(User.role)))
    assert roles == ["admin", "clinician", "front_desk"]
    # one login per role is printed, and each works
    logins = printed_logins(result.output)
    assert [line[0] for line in logins] == ["admin", "front_desk", "clinician"]
    for role, email, _, password in logins:
        assert sign_in(client, email, password).status_code == 201, (role, email)


@BOTH
def test_demo_books_courses_of_every_enabled_modality_around_today(runner, app):
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        enabled = set(enabled_modalities())
        today = datetime.now(practice_zone()).date()
        courses = db.session.scalars(select(Course)).all()
        assert 25 <= len(courses) <= 40
        assert {c.modality for c in courses} == enabled
        groups = [c for c in courses if len(c.client_ids) >= 3]
        assert groups and ("ipt" not in enabled or any(c.modality == "ipt-g" for c in groups))
        sessions = db.session.scalars(select(TherapySession)).all()
        days = [s.starts_at.astimezone(practice_zone()).date() for s in sessions]
        assert min(days) <= today - timedelta(weeks=7)
        assert today + timedelta(weeks=14) <= max(days) <= today + timedelta(weeks=20)
        # a busy week: this week and next, most clinicians see clients
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        week = [s for s, d in zip(sessions, days) if monday <= d < monday + timedelta(days=7)]
        assert len(week) >= 20 and len({s.clinician_id for s in week}) >= 6
        # past sessions carry attendance: mostly attended, some missed
        now = utcnow()
        past = Counter(s.status for s in sessions if s.ends_at <= now)
        future = Counter(s.status for s in sessions if s.starts_at > now)
        assert past["scheduled"] == 0
        assert past["attended"] > 5 * (past["no_show"] + past["cancelled_by_client"])
        assert past["no_show"] >= 2 and past["cancelled_by_client"] >= 2
        assert set(future) <= {"scheduled", "cancelled_by_practice"}
        if "ipt" in enabled:  # a missed IPT session is made up at the end of its series
            assert any(s.is_make_up for s in sessions)


@BOTH
def test_demo_series_skip_its_closure_and_absence(runner, app):
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    assert "dates skipped for the closure and the absence" in result.output
    with app.app_context():
        zone, today = practice_zone(), datetime.now(practice_zone()).date()
        [closure] = db.session.scalars(select(Closure)).all()
        [absence] = db.session.scalars(select(Absence)).all()
        assert today < closure.date <= today + timedelta(weeks=8)
        assert (absence.end_date - absence.start_date).days >= 4
        live = [s for s in db.session.scalars(select(TherapySession)) if not s.cancelled]
        on_closure = [s for s in live if s.starts_at.astimezone(zone).date() == closure.date]
        on_leave = [s for s in live if s.clinician_id == absence.clinician_id and
                    absence.start_date <= s.starts_at.astimezone(zone).date()
                    <= absence.end_date]
        assert on_closure == [] and on_leave == []
        # ... and without them, sessions would have fallen there
        weekdays = {c.weekday for c in db.session.scalars(select(Course))}
        assert closure.date.weekday() in weekdays


def test_demo_token_lists_the_demo_clinicians(runner, client):
    """The README's curl: a demo token lists the demo clinicians."""
    output = runner.invoke(args=["practice", "demo"]).output
    line = next(ln for ln in output.splitlines() if "frontdesk@demo.practice" in ln)
    password = line.split("password:")[1].strip()
    token = sign_in(client, "frontdesk@demo.practice", password).json["token"]
    r = client.get("/api/clinicians", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["total"] >= 6
    assert "Dr Ada Okafor" in [c["name"] for c in r.json["items"]]


@BOTH
def test_demo_twice_changes_nothing(runner, app):
    first = runner.invoke(args=["practice", "demo"])
    assert first.exit_code == 0, first.output
    before = all_counts(app)
    with app.app_context():
        hashes = dict(db.session.execute(select(User.email, User.password_hash)).all())
        statuses = dict(db.session.execute(select(TherapySession.id,
                                                  TherapySession.status)).all())
    second = runner.invoke(args=["practice", "demo"])
    assert second.exit_code == 0, second.output
    assert all_counts(app) == before
    assert "nothing changed" in second.output
    # the logins are printed again, and still the same
    assert printed_logins(second.output) == printed_logins(first.output)
    with app.app_context():
        assert dict(db.session.execute(select(User.email, User.password_hash)).all()) == hashes
        assert dict(db.session.execute(select(TherapySession.id,
                                              TherapySession.status)).all()) == statuses


def test_demo_fills_in_only_what_is_missing(runner, app, make_clinician):
    # a practice that already has one of the demo clinicians (by email)
    make_clinician("Dr A. Okafor (existing)", email="okafor@demo.practice")
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    assert count(app, Clinician, Clinician.email == "okafor@demo.practice") == 1
    before = all_counts(app)
    assert runner.invoke(args=["practice", "demo"]).exit_code == 0
    assert all_counts(app) == before


@pytest.mark.parametrize("app_config", [{"PRACTICE_PLUGINS": "ipt"}], indirect=True,
                         ids=["ipt"])
def test_demo_completes_an_older_smaller_demo(runner, app):
    """A database with the first demo (one site, four rooms, a course) is
    completed, not duplicated, and the demo's logins still work."""
    with app.app_context():
        site = Site(name="Demo Practice, Main Street", address="1 Main Street")
        db.session.add(site)
        db.session.flush()
        room = Room(name="Room 2", site_id=site.id, capacity=1, active=True, attributes=[])
        c = Clinician(name="Dr Ada Okafor", email="okafor@demo.practice", active=True)
        c.modality_rows = [ClinicianModality(modality=m) for m in ("general", "ipt")]
        c.working_hours = [WorkingHours(weekday=d, start=time(9), end=time(18))
                           for d in range(5)]
        alex = Client(name="Alex Morgan", email="alex.morgan@example.org")
        db.session.add_all([room, c, alex])
        db.session.commit()
        today = datetime.now(practice_zone()).date()
        book_course({"client_ids": [alex.id], "clinician_id": c.id, "room_id": room.id,
                     "modality": "ipt", "first_date": today - timedelta(days=13),
                     "start_time": time(10), "session_count": 16})
        create_account("admin@demo.practice", "admin", "demo-admin-1")
        okafor = c.id
    result = runner.invoke(args=["practice", "demo"])
    assert result.exit_code == 0, result.output
    assert count(app, Site) == 2
    assert count(app, Room, Room.name == "Room 2") == 1
    assert count(app, Client, Client.name == "Alex Morgan") == 1
    assert count(app, Course, Course.clinician_id == okafor) >= 5
    assert count(app, Course) >= 25
    before = all_counts(app)
    second = runner.invoke(args=["practice", "demo"])
    assert "nothing changed" in second.output and all_counts(app) == before


def test_demo_users_are_audited(runner, app):
    runner.invoke(args=["practice", "demo"])
    assert count(app, AuditEntry, AuditEntry.object_type == "user",
                 AuditEntry.action == "create") == 3
    # the closure and the absence went through their audited use cases too
    assert count(app, AuditEntry, AuditEntry.object_type.in_(["closure", "absence"])) == 2


# -- plugins ----------------------------------------------------------------------
def test_plugins_command_runs(runner):
    result = runner.invoke(args=["practice", "plugins"])
    assert result.exit_code == 0, result.output
    assert result.output.strip()
