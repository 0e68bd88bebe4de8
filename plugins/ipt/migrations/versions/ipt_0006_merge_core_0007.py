"""Merge the core's 0007 (sign-in limits, session epochs, append-only audit
log) into the IPT branch, keeping one head.

Revision ID: ipt_0006
Revises: ipt_0005, 0007
"""
revision = "ipt_0006"
down_revision = ("ipt_0005", "0007")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
