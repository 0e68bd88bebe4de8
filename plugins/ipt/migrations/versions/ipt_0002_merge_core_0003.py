"""Merge the core's 0003 into the IPT branch, keeping one head.

Revision ID: ipt_0002
Revises: ipt_0001, 0003
"""
revision = "ipt_0002"
down_revision = ("ipt_0001", "0003")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
