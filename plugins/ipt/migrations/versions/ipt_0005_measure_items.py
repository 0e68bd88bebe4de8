"""IPT: measures per client with their nine items, a history, and voiding.

Merges the core's 0006 (acknowledged flags) into the IPT branch and:
- ``ipt_measures`` gains ``client_id``, ``items`` (NULL: entered without
  items, as every row before this revision), ``version``, ``updated_at`` and
  the voiding columns; unique per course, client, session and instrument
  among the measures not voided (was: per course and session).
- ``ipt_measure_versions`` keeps every entry, correction and voiding. Each
  existing row gets its version 1 (``entered``, items NULL).
- An existing row's client is the course's client when it has one; a group's
  old rows (which named no client) keep ``client_id`` NULL.
- Open safety reviews raised before this revision are held until a person
  acknowledges them (no refresh may close them now).

Revision ID: ipt_0005
Revises: ipt_0004, 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "ipt_0005"
down_revision = ("ipt_0004", "0006")
branch_labels = None
depends_on = None

LIVE = sa.text("voided_at IS NULL")


def upgrade():
    with op.batch_alter_table("ipt_measures") as batch:
        batch.drop_constraint("uq_ipt_measure_session", type_="unique")
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("items", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_ipt_measures_client_id", "clients", ["client_id"], ["id"])
        batch.create_foreign_key("fk_ipt_measures_voided_by", "users", ["voided_by_user_id"],
                                 ["id"])
    op.create_index("uq_ipt_measure_client_session", "ipt_measures",
                    ["course_id", "client_id", "session_number", "instrument"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_table(
        "ipt_measure_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("phq9_total", sa.Integer(), nullable=False),
        sa.Column("phq9_item9", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("action IN ('entered', 'corrected', 'voided')",
                           name="ck_ipt_measure_version_action"),
        sa.ForeignKeyConstraint(["measure_id"], ["ipt_measures.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ipt_measure_versions_measure_id", "ipt_measure_versions",
                    ["measure_id"])
    # Existing rows: the course's one client, and version 1 "entered without items".
    op.execute("""
        UPDATE ipt_measures SET client_id = (
            SELECT MIN(cc.client_id) FROM course_clients cc
            WHERE cc.course_id = ipt_measures.course_id)
        WHERE (SELECT COUNT(*) FROM course_clients cc
               WHERE cc.course_id = ipt_measures.course_id) = 1""")
    op.execute("""
        INSERT INTO ipt_measure_versions (measure_id, version, action, items, phq9_total,
                                          phq9_item9, recorded_at, recorded_by_user_id)
        SELECT id, 1, 'entered', NULL, phq9_total, phq9_item9, recorded_at,
               recorded_by_user_id
        FROM ipt_measures""")
    op.execute("""
        UPDATE course_flags SET held = TRUE, audience = 'clinical',
               ref = 'legacy:' || CAST(id AS VARCHAR(20))
        WHERE plugin = 'ipt' AND code = 'ipt.safety_review' AND closed_at IS NULL""")


def downgrade():
    op.drop_index("ix_ipt_measure_versions_measure_id", table_name="ipt_measure_versions")
    op.drop_table("ipt_measure_versions")
    op.drop_index("uq_ipt_measure_client_session", table_name="ipt_measures")
    # Back to one measure per course and session: keep the oldest live one.
    op.execute("""
        DELETE FROM ipt_measures WHERE voided_at IS NOT NULL OR id NOT IN (
            SELECT MIN(id) FROM ipt_measures GROUP BY course_id, session_number, instrument)""")
    with op.batch_alter_table("ipt_measures") as batch:
        batch.drop_constraint("fk_ipt_measures_voided_by", type_="foreignkey")
        batch.drop_constraint("fk_ipt_measures_client_id", type_="foreignkey")
        for name in ("void_reason", "voided_by_user_id", "voided_at", "updated_at", "version",
                     "items", "client_id"):
            batch.drop_column(name)
        batch.create_unique_constraint("uq_ipt_measure_session",
                                       ["course_id", "session_number", "instrument"])
