"""Covering indexes for a clinician's and a room's sessions.

A calendar feed checks on every poll whether anything in its window changed
(``practice.feeds.query.fingerprint``): count, last change, sequences and
courses of ~1,200 sessions. With the old two-column indexes each of those
rows cost a table lookup; with every column the check reads in the index it
is an index-only scan (PostgreSQL) or a covering-index search (SQLite), about
half the time. The conflict pre-check (times and status) is covered too.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COVERED = ["starts_at", "ends_at", "status", "updated_at", "sequence", "course_id", "id"]


def upgrade():
    op.drop_index("ix_sessions_clinician_start", table_name="sessions")
    op.create_index("ix_sessions_clinician_start", "sessions", ["clinician_id", *COVERED])
    op.drop_index("ix_sessions_room_start", table_name="sessions")
    op.create_index("ix_sessions_room_start", "sessions", ["room_id", *COVERED, "clinician_id"])


def downgrade():
    op.drop_index("ix_sessions_room_start", table_name="sessions")
    op.create_index("ix_sessions_room_start", "sessions", ["room_id", "starts_at"])
    op.drop_index("ix_sessions_clinician_start", table_name="sessions")
    op.create_index("ix_sessions_clinician_start", "sessions", ["clinician_id", "starts_at"])
