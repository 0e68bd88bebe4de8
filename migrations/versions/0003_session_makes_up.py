"""A make-up session names the session it makes up (``makes_up``).

"Session k of N" and the phases count delivered sessions: a cancelled or
missed session that was made up gives its place to the make-up.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy) so SQLite keeps the overlap triggers.
    op.add_column("sessions", sa.Column("makes_up", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("makes_up")
