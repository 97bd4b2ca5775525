"""audit log of staff writes

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from fixflow_shared.db import create_audit_log_table_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_log_table_v1(op)


def downgrade() -> None:
    op.drop_table("audit_log")
