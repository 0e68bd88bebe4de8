"""Merge the core's 0005 into the IPT branch, keeping one head.

Revision ID: ipt_0004
Revises: ipt_0003, 0005
"""
revision = "ipt_0004"
down_revision = ("ipt_0003", "0005")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
