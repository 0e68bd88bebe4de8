"""A populated database at the first revision (0001) upgrades to the newest
(every core and plugin head) without losing a row or a value, on the engine
this run tests (a new SQLite file, or a new PostgreSQL database).

The rows are written with the 0001 schema itself (reflected, as a practice
running 0001 would hold them): every table of 0001 gets rows, with every
column filled where it can be. After ``upgrade`` each table still has exactly
those rows, and every column that 0001 had still holds its value.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from flask_migrate import upgrade
from sqlalchemy import MetaData, func, inspect, select, text

from practice import create_app
from practice.extensions import db

# fresh_url (an empty database of this run's engine) comes from test_migrations
from test_migrations import fresh_url  # noqa: F401  (fixture)

UTC = timezone.utc


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


ROWS = {
    "practice_settings": [{"id": 1, "name": "Upgrade Practice"}],
    "sites": [{"id": 1, "name": "North", "address": "1 High St"},
              {"id": 2, "name": "South", "address": None}],
    "clinicians": [{"id": 1, "name": "Dr One", "email": "one@c.example", "active": True,
                    "updated_at": at(1)},
                   {"id": 2, "name": "Dr Two", "email": "two@c.example", "active": False,
                    "updated_at": at(2)}],
    "clients": [{"id": i, "name": f"Client {i}", "date_of_birth": date(1980, 1, i),
                 "email": f"c{i}@x.example", "phone": f"0123 {i}", "updated_at": at(3)}
                for i in (1, 2, 3)],
    "rooms": [{"id": 1, "name": "Room A", "site_id": 1, "capacity": 1, "active": True,
               "attributes": ["quiet"], "updated_at": at(1)},
              {"id": 2, "name": "Group Room", "site_id": 2, "capacity": 8, "active": True,
               "attributes": [], "updated_at": at(1)}],
    "clinician_modalities": [{"clinician_id": 1, "modality": "general"},
                             {"clinician_id": 1, "modality": "ipt"},
                             {"clinician_id": 2, "modality": "general"}],
    "working_hours": [{"id": 1, "clinician_id": 1, "weekday": 1, "start_time": time(9),
                       "end_time": time(17)},
                      {"id": 2, "clinician_id": 2, "weekday": 3, "start_time": time(8),
                       "end_time": time(12, 30)}],
    "users": [{"id": 1, "email": "admin@u.example", "password_hash": "$argon2id$fake1",
               "role": "admin", "clinician_id": None, "active": True, "created_at": at(1)},
              {"id": 2, "email": "one@u.example", "password_hash": "$argon2id$fake2",
               "role": "clinician", "clinician_id": 1, "active": True, "created_at": at(1)}],
    "api_tokens": [{"id": 1, "user_id": 1, "token_hash": "a" * 64, "created_at": at(1),
                    "expires_at": at(1, 22)}],
    "audit_log": [{"id": 1, "at": at(1), "user_id": 1, "action": "create",
                   "object_type": "client", "object_id": 1, "details": {"fields": ["name"]}},
                  {"id": 2, "at": at(2), "user_id": None, "action": "create",
                   "object_type": "user", "object_id": 2, "details": {"role": "clinician"}}],
    "closures": [{"id": 1, "date": date(2026, 12, 25), "reason": "Christmas", "site_id": None},
                 {"id": 2, "date": date(2026, 8, 31), "reason": "Works", "site_id": 2}],
    "absences": [{"id": 1, "clinician_id": 1, "start_date": date(2026, 7, 1),
                  "end_date": date(2026, 7, 14), "reason": "Leave"}],
    "courses": [{"id": 1, "clinician_id": 1, "room_id": 1, "modality": "general",
                 "label": None, "planned_sessions": 2, "weekday": 1, "start_time": time(10),
                 "duration_minutes": 50, "interval_weeks": 1, "first_date": date(2026, 3, 3),
                 "timezone": "Europe/London", "status": "active", "outcome": None,
                 "close_reason": None, "closed_at": None, "modality_data": {"note": "kept"},
                 "created_at": at(1), "updated_at": at(1)},
                {"id": 2, "clinician_id": 1, "room_id": 2, "modality": "general",
                 "label": "Tuesday group", "planned_sessions": 1, "weekday": 1,
                 "start_time": time(14), "duration_minutes": 90, "interval_weeks": 2,
                 "first_date": date(2026, 3, 3), "timezone": "Europe/London",
                 "status": "ended_early", "outcome": "moved away", "close_reason": "moved",
                 "closed_at": at(4), "modality_data": {}, "created_at": at(1),
                 "updated_at": at(4)}],
    "course_clients": [{"course_id": 1, "client_id": 1}, {"course_id": 2, "client_id": 2},
                       {"course_id": 2, "client_id": 3}],
    "sessions": [{"id": 1, "course_id": 1, "number": 1, "clinician_id": 1, "room_id": 1,
                  "starts_at": at(3), "ends_at": datetime(2026, 3, 3, 10, 50, tzinfo=UTC),
                  "status": "attended", "is_make_up": False, "cancelled_by": None,
                  "cancelled_by_user_id": None, "cancel_reason": None, "cancelled_at": None,
                  "uid": "s1@upgrade", "sequence": 0, "created_at": at(1), "updated_at": at(3)},
                 {"id": 2, "course_id": 1, "number": 2, "clinician_id": 1, "room_id": 1,
                  "starts_at": at(10), "ends_at": datetime(2026, 3, 10, 10, 50, tzinfo=UTC),
                  "status": "cancelled_by_client", "is_make_up": False,
                  "cancelled_by": "client", "cancelled_by_user_id": 1,
                  "cancel_reason": "ill", "cancelled_at": at(9), "uid": "s2@upgrade",
                  "sequence": 2, "created_at": at(1), "updated_at": at(9)},
                 {"id": 3, "course_id": 2, "number": 1, "clinician_id": 1, "room_id": 2,
                  "starts_at": at(3, 14), "ends_at": at(3, 15), "status": "scheduled",
                  "is_make_up": False, "cancelled_by": None, "cancelled_by_user_id": None,
                  "cancel_reason": None, "cancelled_at": None, "uid": "s3@upgrade",
                  "sequence": 1, "created_at": at(1), "updated_at": at(1)}],
    "session_participants": [
        {"id": 1, "session_id": 3, "client_id": 2, "starts_at": at(3, 14), "ends_at": at(3, 15),
         "active": True, "attendance": None},
        {"id": 2, "session_id": 3, "client_id": 3, "starts_at": at(3, 14), "ends_at": at(3, 15),
         "active": True, "attendance": "no_show"}],
    "course_flags": [{"id": 1, "course_id": 1, "code": "core.test", "plugin": None,
                      "severity": "warning", "audience": "clinical", "message": "Look",
                      "due_date": date(2026, 4, 1), "raised_at": at(2), "updated_at": at(2),
                      "closed_at": None}],
    "feed_tokens": [{"id": 1, "token_hash": "b" * 64, "clinician_id": 1, "room_id": None,
                     "privacy": "initials", "created_at": at(1), "created_by": 1,
                     "revoked_at": None},
                    {"id": 2, "token_hash": "c" * 64, "clinician_id": None, "room_id": 2,
                     "privacy": "busy", "created_at": at(1), "created_by": 1,
                     "revoked_at": at(2)}],
    "feed_fetches": [{"id": 1, "feed_token_id": 1, "at": at(2), "status": 200,
                      "user_agent": "Calendar/1.0"}],
}


def snapshot(conn, meta: MetaData) -> dict[str, list[tuple]]:
    """Every row of the 0001 tables, only the 0001 columns, in key order."""
    out = {}
    for name, table in meta.tables.items():
        if name == "alembic_version":
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        out[name] = [tuple(r) for r in conn.execute(select(*table.columns).order_by(*order))]
    return out


def test_populated_first_revision_upgrades_without_loss(fresh_url, tmp_path):  # noqa: F811
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(tmp_path / "instance"), "PRACTICE_PLUGINS": ""})
    with app.app_context():
        upgrade(revision="0001")
        old = MetaData()
        old.reflect(bind=db.engine)
        missing = set(old.tables) - set(ROWS) - {"alembic_version"}
        assert not missing, f"give these 0001 tables rows here: {missing}"
        with db.engine.begin() as conn:
            for name in ROWS:  # parents first (the dict's order)
                conn.execute(old.tables[name].insert(), ROWS[name])
            if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for name, table in old.tables.items():
                    if "id" in table.c and name in ROWS:
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                                          f" (SELECT max(id) FROM {name}))"))
        with db.engine.connect() as conn:
            before = snapshot(conn, old)
        assert all(len(before[name]) == len(ROWS[name]) for name in ROWS)

        upgrade(revision="heads")
        with db.engine.connect() as conn:
            after = snapshot(conn, old)
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert "0001" not in heads and heads
        for name in before:
            assert after[name] == before[name], name
        # the new columns got their defaults on the old rows
        assert {c["name"] for c in inspect(db.engine).get_columns("users")} >= {"session_epoch"}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT session_epoch FROM users ORDER BY id")
                                ).scalars().all() == [0, 0]
            # and the upgraded database takes new rows (sequences, defaults)
            conn.execute(text("INSERT INTO sites (name) VALUES ('After upgrade')"))
            assert conn.execute(select(func.count()).select_from(old.tables["sites"])
                                ).scalar() == 3
            conn.commit()
        db.session.remove()
        db.engine.dispose()
