"""billing tables: price books, ticket facts, entitlements, quotes, counters, invoices, waivers,
payments, refunds, credit notes

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import rls_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT = lambda: sa.Column("tenant_id", sa.String(64), nullable=False)  # noqa: E731
TS = lambda name, nullable=False: sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)  # noqa: E731
MONEY = lambda name, nullable=False: sa.Column(name, sa.BigInteger, nullable=nullable)  # noqa: E731

TABLES = (
    "price_books",
    "ticket_facts",
    "entitlements",
    "quotes",
    "document_counters",
    "invoices",
    "waived_charges",
    "waivers",
    "payments",
    "refunds",
    "credit_notes",
)


def upgrade() -> None:
    op.create_table(
        "price_books",
        TENANT(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("config", JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        TS("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "version", name="pk_price_books"),
    )
    op.create_table(
        "ticket_facts",
        TENANT(),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("asset_id", sa.String(64)),
        sa.Column("kind", sa.String(32)),
        sa.Column("warranty_status", sa.String(32), nullable=False),
        sa.Column("facts", JSONB, nullable=False),
        TS("opened_at"),
        sa.PrimaryKeyConstraint("tenant_id", "ticket_id", name="pk_ticket_facts"),
    )
    op.create_table(
        "entitlements",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(64)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("terms", JSONB, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        TS("created_at"),
    )
    op.create_index("ix_entitlements_customer", "entitlements", ["tenant_id", "customer_id", "kind"])
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        MONEY("total_minor"),
        sa.Column("charge", JSONB, nullable=False),
        TS("issued_at"),
        TS("valid_until"),
        sa.Column("consent", JSONB),
    )
    op.create_table(
        "document_counters",
        TENANT(),
        sa.Column("series", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        MONEY("last_value"),
        sa.PrimaryKeyConstraint("tenant_id", "series", "year", name="pk_document_counters"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("work_order_id", sa.String(64)),
        sa.Column("service_kind", sa.String(1), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        MONEY("subtotal_minor"),
        MONEY("tax_minor"),
        MONEY("total_minor"),
        MONEY("paid_minor"),
        MONEY("refunded_minor"),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("price_book_version", sa.Integer, nullable=False),
        TS("issued_at"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_invoices_tenant_number"),
        sa.UniqueConstraint("tenant_id", "work_order_id", name="uq_invoices_tenant_work_order"),
        sa.CheckConstraint("total_minor >= 0", name="ck_invoices_total_not_negative"),
        sa.CheckConstraint("paid_minor >= 0 AND paid_minor <= total_minor", name="ck_invoices_paid_range"),
    )
    op.create_index("ix_invoices_customer_issued", "invoices", ["tenant_id", "customer_id", "issued_at"])
    op.create_table(
        "waived_charges",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("work_order_id", sa.String(64)),
        sa.Column("service_kind", sa.String(1), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        MONEY("waived_minor"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("lines", JSONB, nullable=False),
        TS("waived_at"),
        sa.UniqueConstraint("tenant_id", "work_order_id", name="uq_waived_charges_tenant_work_order"),
    )
    op.create_table(
        "waivers",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        MONEY("amount_minor", True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approved_by", sa.String(200)),
        TS("created_at"),
    )
    op.create_index("ix_waivers_ticket", "waivers", ["tenant_id", "ticket_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        MONEY("amount_minor"),
        MONEY("applied_minor"),
        MONEY("credit_minor"),
        sa.Column("receipt_number", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(200)),
        TS("received_at"),
        sa.CheckConstraint("amount_minor > 0", name="ck_payments_positive"),
    )
    op.create_index("ix_payments_invoice", "payments", ["tenant_id", "invoice_id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        MONEY("gross_minor"),
        MONEY("customer_share_minor"),
        MONEY("amount_minor"),
        sa.Column("credit_note_id", sa.String(40), nullable=False),
        TS("issued_at"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        TENANT(),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("invoice_id", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        MONEY("amount_minor"),
        sa.Column("reason", sa.Text, nullable=False),
        TS("issued_at"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_credit_notes_tenant_number"),
    )
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
