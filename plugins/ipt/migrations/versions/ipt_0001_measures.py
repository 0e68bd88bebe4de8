"""IPT plugin: the PHQ-9 measures table.

The first revision of the plugin's own branch (label ``ipt``). It sits on
the core's head at the time (``0002``) so core and plugin share one head and
``flask db upgrade`` needs no revision argument. It runs whether or not the
plugin is enabled: its data outlives a disabled plugin.

Revision ID: ipt_0001
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op


revision = "ipt_0001"
down_revision = "0002"
branch_labels = ("ipt",)
depends_on = None


def upgrade():
    op.create_table(
        "ipt_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(length=20), nullable=False),
        sa.Column("phq9_total", sa.Integer(), nullable=False),
        sa.Column("phq9_item9", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("phq9_total BETWEEN 0 AND 27", name="ck_ipt_phq9_total"),
        sa.CheckConstraint("phq9_item9 BETWEEN 0 AND 3", name="ck_ipt_phq9_item9"),
        sa.CheckConstraint("phq9_item9 <= phq9_total", name="ck_ipt_phq9_item9_in_total"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "session_number", "instrument",
                            name="uq_ipt_measure_session"),
    )
    op.create_index("ix_ipt_measures_course_id", "ipt_measures", ["course_id"])


def downgrade():
    op.drop_index("ix_ipt_measures_course_id", table_name="ipt_measures")
    op.drop_table("ipt_measures")
