"""Flags a person acknowledges, and several flags of one code on a course.

A safety review (IPT's ``ipt.safety_review``) stays open until someone
acknowledges it with an outcome and a note; a refresh never closes it
(``held``). ``ref`` tells apart several open flags of one code (one per
measure, per client, per missed due point); ``client_id`` names the client a
flag concerns.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_flags") as batch:
        batch.add_column(sa.Column("ref", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ack_outcome", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("ack_note", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_course_flags_client_id", "clients", ["client_id"], ["id"])
        batch.create_foreign_key("fk_course_flags_ack_user", "users",
                                 ["acknowledged_by_user_id"], ["id"])


def downgrade():
    with op.batch_alter_table("course_flags") as batch:
        batch.drop_constraint("fk_course_flags_ack_user", type_="foreignkey")
        batch.drop_constraint("fk_course_flags_client_id", type_="foreignkey")
        for name in ("ack_note", "ack_outcome", "acknowledged_by_user_id", "acknowledged_at",
                     "held", "client_id", "ref"):
            batch.drop_column(name)
