"""customers billing learned of from intake (customer.registered, ticket.opened): sales and
entitlements name only these

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from fixflow_shared.db import rls_statements

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_customers",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_known_customers"),
    )
    # The customers of tickets billing learned before this table existed, across tenants: the owner
    # reads ticket_facts past its row-level security for this one statement, before the new table has any.
    op.execute("ALTER TABLE ticket_facts NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO known_customers (tenant_id, customer_id, first_seen) "
        "SELECT tenant_id, customer_id, min(opened_at) FROM ticket_facts WHERE customer_id IS NOT NULL "
        "GROUP BY tenant_id, customer_id"
    )
    op.execute("ALTER TABLE ticket_facts FORCE ROW LEVEL SECURITY")
    for stmt in rls_statements("known_customers"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("known_customers")
