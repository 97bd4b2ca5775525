"""customers, products, assets, ticket details, notes, SLA clocks, timeline, tenant settings

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

TICKET_COLUMNS = [
    sa.Column("customer_id", sa.String(40)),
    sa.Column("asset_id", sa.String(40)),
    sa.Column("product_id", sa.String(40)),
    sa.Column("product_model", sa.String(100)),
    sa.Column("serial", sa.String(100)),
    sa.Column("purchase_date", sa.Date),
    sa.Column("customer_grade", sa.String(8)),
    sa.Column("priority", sa.String(4)),
    sa.Column("category", sa.String(40)),
    sa.Column("path", sa.String(16)),
    sa.Column("severity", sa.Integer),
    sa.Column("urgency", sa.Integer),
    sa.Column("suggested_fix", sa.String(40)),
    sa.Column("warranty", JSONB),
    sa.Column("missing_facts", JSONB, nullable=False, server_default="[]"),
    sa.Column("resume_to", sa.String(32)),
    sa.Column("requested_window", JSONB),
    sa.Column("site", JSONB),
    sa.Column("attachments", JSONB, nullable=False, server_default="[]"),
    sa.Column("assignee_id", sa.String(100)),
    sa.Column("technician_id", sa.String(100)),
    sa.Column("complaint_level", sa.Integer),
    sa.Column("original_ticket_id", sa.String(40)),
    sa.Column("compensation_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("compensation_amount_minor", sa.BigInteger),
    sa.Column("compensation_approved", sa.Boolean),
    sa.Column("round", sa.Integer, nullable=False, server_default="1"),
    sa.Column("duplicate_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_response_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
]


def upgrade() -> None:
    for col in TICKET_COLUMNS:
        op.add_column("tickets", col)
    op.create_index("ix_tickets_tenant_opened", "tickets", ["tenant_id", "opened_at", "id"])
    op.create_index("ix_tickets_tenant_asset", "tickets", ["tenant_id", "asset_id", "opened_at"])
    op.create_index("ix_tickets_tenant_phone", "tickets", ["tenant_id", "contact_phone", "opened_at"])
    op.create_index("ix_tickets_tenant_customer", "tickets", ["tenant_id", "customer_id"])

    op.create_table(
        "customers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_person", sa.String(200)),
        sa.Column("phone", sa.String(40)),
        sa.Column("email", sa.String(320)),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("addresses", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customers_tenant_phone", "customers", ["tenant_id", "phone"])
    op.create_index("ix_customers_tenant_name", "customers", ["tenant_id", "name"])
    op.create_table(
        "products",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("warranty_months", sa.Integer, nullable=False),
        sa.Column("return_window_days", sa.Integer, nullable=False),
        sa.Column("non_returnable", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "model", name="uq_products_tenant_model"),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("serial", sa.String(100), nullable=False),
        sa.Column("purchase_date", sa.Date),
        sa.Column("purchase_channel", sa.String(100)),
        sa.Column("card_warranty_months", sa.Integer),
        sa.Column("card_warranty_ends_on", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assets_tenant_serial", "assets", ["tenant_id", "serial"])
    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_notes_ticket", "ticket_notes", ["tenant_id", "ticket_id", "id"])
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32)),
        sa.Column("priority", sa.String(4)),
        sa.Column("target_s", sa.Float, nullable=False),
        sa.Column("at_risk_share", sa.Float, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_business_s", sa.Float, nullable=False, server_default="0"),
        sa.Column("paused_since", sa.DateTime(timezone=True)),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.Column("at_risk_raised", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("breached_raised", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("next_check_at", sa.DateTime(timezone=True)),
        sa.Column("met", sa.Boolean),
    )
    op.create_index("ix_sla_clocks_ticket", "sla_clocks", ["tenant_id", "ticket_id"])
    op.create_index(
        "ix_sla_clocks_next_check",
        "sla_clocks",
        ["next_check_at"],
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.create_table(
        "timeline",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", JSONB, nullable=False),
    )
    op.create_index("ix_timeline_ticket", "timeline", ["tenant_id", "ticket_id", "time"])
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("config", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in ("customers", "products", "assets", "ticket_notes", "timeline"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in ("tenant_settings", "timeline", "sla_clocks", "ticket_notes", "assets", "products", "customers"):
        op.drop_table(table)
    for col in reversed(TICKET_COLUMNS):
        op.drop_column("tickets", col.name)
