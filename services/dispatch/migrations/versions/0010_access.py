"""audit log of staff writes; jobs know their ticket's customer (ownership)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from fixflow_shared.db import create_audit_log_table_v1

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_log_table_v1(op)
    # a customer reaches the jobs and appointments of its own tickets only
    op.add_column("jobs", sa.Column("customer_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("jobs", "customer_id")
    op.drop_table("audit_log")
