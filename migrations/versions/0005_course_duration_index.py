"""An index on a course's duration.

The availability search reads rooms' bookings only at the minutes around a
clinician's free starts; a booking that began earlier still counts, as far
back as the longest course. ``max(duration_minutes)`` with this index is one
index lookup instead of a scan of every course ever booked.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_courses_duration", "courses", ["duration_minutes"])


def downgrade():
    op.drop_index("ix_courses_duration", table_name="courses")
