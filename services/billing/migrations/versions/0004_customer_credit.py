"""customer credit: a balance per customer and currency (overpayments) and its ledger

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from fixflow_shared.db import rls_statements

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_credits",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", "currency", name="pk_customer_credits"),
        sa.CheckConstraint("balance_minor >= 0", name="ck_customer_credits_not_negative"),
    )
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),  # + overpayment, - applied
        sa.Column("kind", sa.String(20), nullable=False),  # overpayment | applied
        sa.Column("payment_id", sa.String(40), nullable=False),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name="ck_credit_entries_not_zero"),
    )
    op.create_index("ix_credit_entries_customer", "credit_entries", ["tenant_id", "customer_id", "at"])
    for table in ("customer_credits", "credit_entries"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("credit_entries")
    op.drop_table("customer_credits")
