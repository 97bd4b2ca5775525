"""audit log of staff writes

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from fixflow_shared.db import create_audit_log_table_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_log_table_v1(op)


def downgrade() -> None:
    op.drop_table("audit_log")
