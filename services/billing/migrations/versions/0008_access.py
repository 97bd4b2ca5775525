"""audit log of staff writes

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from fixflow_shared.db import create_audit_log_table_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_log_table_v1(op)


def downgrade() -> None:
    op.drop_table("audit_log")
