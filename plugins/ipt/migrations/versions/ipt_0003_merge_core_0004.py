"""Merge the core's 0004 into the IPT branch, keeping one head.

Revision ID: ipt_0003
Revises: ipt_0002, 0004
"""
revision = "ipt_0003"
down_revision = ("ipt_0002", "0004")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
