"""Sign-in limits in the database, session epochs, an append-only audit log.

- ``login_failures``: one row per failed sign-in (hash of the typed email,
  address, instant), read by every worker: 5 in 15 minutes per account and
  address, then 429.
- ``users.session_epoch``: a browser session remembers the value it signed in
  with; a password change or a deactivation raises it and ends every session.
- ``audit_log`` refuses UPDATE and DELETE, on both engines, by triggers:
  PostgreSQL a trigger function raising an exception; SQLite BEFORE UPDATE and
  BEFORE DELETE triggers with ``RAISE(ABORT, ...)``. The app has no way
  around them; only someone who can run DDL (drop the trigger) can. Note for
  later migrations: a SQLite batch "move and copy" of ``audit_log`` drops its
  triggers with the old table and must create them again.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
)
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
              "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def upgrade():
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_failures") as batch:
        batch.create_index("ix_login_failures_key", ["email_hash", "address", "at"], unique=False)
        batch.create_index(batch.f("ix_login_failures_at"), ["at"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False,
                                   server_default="0"))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_index(batch.f("ix_login_failures_at"))
        batch.drop_index("ix_login_failures_key")
    op.drop_table("login_failures")
