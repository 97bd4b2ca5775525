"""pending settlements: work-order completions parked until billing can price them (ticket facts
not seen yet, or a waiver waiting for a manager's decision)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import rls_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_settlements",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("work_order_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("waiting_for", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("work", JSONB, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("causation", JSONB),
        sa.Column("error", sa.Text),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "work_order_id", name="pk_pending_settlements"),
    )
    op.create_index("ix_pending_settlements_ticket", "pending_settlements", ["tenant_id", "ticket_id"])
    for stmt in rls_statements("pending_settlements"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("pending_settlements")
