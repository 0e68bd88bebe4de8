"""Overlap guards: no clinician, room or client in two overlapping sessions.

PostgreSQL: exclusion constraints over half-open tstzrange, partial on
non-cancelled sessions (and active participant rows). SQLite: triggers that
abort an overlapping insert or update. Either way the database, not only the
Python pre-check, makes double booking impossible.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = "status NOT IN ('cancelled_by_client', 'cancelled_by_practice')"


def _sqlite_session_check(kind: str, column: str, exclude_self: str) -> str:
    # The lower bound on starts_at keeps the index range small; no session
    # lasts a day (the application caps durations at 240 minutes).
    return f"""
    SELECT RAISE(ABORT, 'overlap: {kind}') WHERE EXISTS (
        SELECT 1 FROM sessions s
        WHERE s.{column} = NEW.{column}
          AND s.starts_at < NEW.ends_at
          AND s.starts_at > datetime(NEW.starts_at, '-1 day')
          AND s.ends_at > NEW.starts_at
          AND s.status NOT IN ('cancelled_by_client', 'cancelled_by_practice')
          {exclude_self});"""


def _sqlite_participant_check(exclude_self: str) -> str:
    return f"""
    SELECT RAISE(ABORT, 'overlap: client') WHERE EXISTS (
        SELECT 1 FROM session_participants p
        WHERE p.client_id = NEW.client_id
          AND p.active
          AND p.starts_at < NEW.ends_at
          AND p.starts_at > datetime(NEW.starts_at, '-1 day')
          AND p.ends_at > NEW.starts_at
          {exclude_self});"""


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(f"""ALTER TABLE sessions ADD CONSTRAINT ex_sessions_clinician
            EXCLUDE USING gist (clinician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
            WHERE ({LIVE})""")
        op.execute(f"""ALTER TABLE sessions ADD CONSTRAINT ex_sessions_room
            EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
            WHERE ({LIVE})""")
        op.execute("""ALTER TABLE session_participants ADD CONSTRAINT ex_participants_client
            EXCLUDE USING gist (client_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
            WHERE (active)""")
        return
    ins_self = ""
    upd_self = "AND s.id <> NEW.id"
    op.execute(f"""CREATE TRIGGER tr_sessions_overlap_insert BEFORE INSERT ON sessions
        WHEN NEW.status NOT IN ('cancelled_by_client', 'cancelled_by_practice')
        BEGIN {_sqlite_session_check('clinician', 'clinician_id', ins_self)}
              {_sqlite_session_check('room', 'room_id', ins_self)}
        END""")
    op.execute(f"""CREATE TRIGGER tr_sessions_overlap_update
        BEFORE UPDATE OF starts_at, ends_at, room_id, clinician_id, status ON sessions
        WHEN NEW.status NOT IN ('cancelled_by_client', 'cancelled_by_practice')
        BEGIN {_sqlite_session_check('clinician', 'clinician_id', upd_self)}
              {_sqlite_session_check('room', 'room_id', upd_self)}
        END""")
    op.execute(f"""CREATE TRIGGER tr_participants_overlap_insert
        BEFORE INSERT ON session_participants WHEN NEW.active
        BEGIN {_sqlite_participant_check('')} END""")
    op.execute(f"""CREATE TRIGGER tr_participants_overlap_update
        BEFORE UPDATE OF starts_at, ends_at, active, client_id ON session_participants
        WHEN NEW.active
        BEGIN {_sqlite_participant_check('AND p.id <> NEW.id')} END""")
    # SQLite CHECK constraints cannot be added to a table in place, so the
    # duration cap the triggers rely on is also a trigger.
    for event in ("INSERT", "UPDATE OF starts_at, ends_at"):
        name = "insert" if event == "INSERT" else "update"
        op.execute(f"""CREATE TRIGGER tr_sessions_max_length_{name} BEFORE {event} ON sessions
            WHEN julianday(NEW.ends_at) - julianday(NEW.starts_at) > 0.5
            BEGIN SELECT RAISE(ABORT, 'session longer than 12 hours'); END""")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE session_participants DROP CONSTRAINT ex_participants_client")
        op.execute("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_room")
        op.execute("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_clinician")
        return
    for name in ("tr_sessions_overlap_insert", "tr_sessions_overlap_update",
                 "tr_participants_overlap_insert", "tr_participants_overlap_update",
                 "tr_sessions_max_length_insert", "tr_sessions_max_length_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
