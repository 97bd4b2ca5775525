"""planning_tenants: which tenants the periodic optimiser visits

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Deliberately without row-level security: the periodic optimiser reads it across tenants.
    # It holds tenant ids only, no business data.
    op.create_table(
        "planning_tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("planning_tenants")
