"""Tables of intake's database, as its migrations build them (indexes, constraints and server defaults
included): tests/contract/test_migrations_match_models.py fails on any difference."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.deadletters import add_dead_letter_table

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
dead_letter_actions = add_dead_letter_table(metadata)  # operators' replays and discards
audit_log = add_audit_table(metadata)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("symptom", Text, nullable=False),
    Column("customer_name", String(200)),
    Column("contact_email", String(320)),
    Column("contact_phone", String(40)),
    Column("locale", String(10), nullable=False, server_default="zh-CN"),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # 0002
    Column("customer_id", String(40)),
    Column("asset_id", String(40)),
    Column("product_id", String(40)),
    Column("product_model", String(100)),
    Column("serial", String(100)),
    Column("purchase_date", Date),
    Column("customer_grade", String(8)),
    Column("priority", String(4)),
    Column("category", String(40)),
    Column("path", String(16)),
    Column("severity", Integer),
    Column("urgency", Integer),
    Column("suggested_fix", String(40)),
    Column("warranty", JSONB),
    Column("missing_facts", JSONB, nullable=False, server_default="[]"),
    Column("resume_to", String(32)),
    Column("requested_window", JSONB),
    Column("site", JSONB),
    Column("attachments", JSONB, nullable=False, server_default="[]"),
    Column("assignee_id", String(100)),
    Column("technician_id", String(100)),
    Column("complaint_level", Integer),
    Column("original_ticket_id", String(40)),
    Column("compensation_requested", Boolean, nullable=False, server_default=false()),
    Column("compensation_amount_minor", BigInteger),
    Column("compensation_approved", Boolean),
    Column("round", Integer, nullable=False, server_default="1"),
    Column("duplicate_count", Integer, nullable=False, server_default="0"),
    Column("first_response_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    # 0003
    Column("trace_headers", JSONB),
    # 0004
    Column("team_id", String(64)),
    Index("ix_tickets_tenant_status", "tenant_id", "status", "opened_at"),
    Index("ix_tickets_tenant_opened", "tenant_id", "opened_at", "id"),
    Index("ix_tickets_tenant_asset", "tenant_id", "asset_id", "opened_at"),
    Index("ix_tickets_tenant_phone", "tenant_id", "contact_phone", "opened_at"),
    Index("ix_tickets_tenant_customer", "tenant_id", "customer_id"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("type", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("contact_person", String(200)),
    Column("phone", String(40)),
    Column("email", String(320)),
    Column("grade", String(8), nullable=False),
    Column("addresses", JSONB, nullable=False, server_default="[]"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_customers_tenant_phone", "tenant_id", "phone"),
    Index("ix_customers_tenant_name", "tenant_id", "name"),
)

products = Table(
    "products",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("model", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("warranty_months", Integer, nullable=False),
    Column("return_window_days", Integer, nullable=False),
    Column("non_returnable", JSONB, nullable=False, server_default="[]"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "model", name="uq_products_tenant_model"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(40), nullable=False),
    Column("product_id", String(40), nullable=False),
    Column("serial", String(100), nullable=False),
    Column("purchase_date", Date),
    Column("purchase_channel", String(100)),
    Column("card_warranty_months", Integer),
    Column("card_warranty_ends_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_assets_tenant_serial", "tenant_id", "serial"),
)

ticket_notes = Table(
    "ticket_notes",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("author", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_ticket_notes_ticket", "tenant_id", "ticket_id", "id"),
)

# No RLS: the SLA timer loop scans clocks of every tenant (queries filter by tenant explicitly).
sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("name", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("kind", String(32)),
    Column("priority", String(4)),
    Column("target_s", Float, nullable=False),
    Column("at_risk_share", Float, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("paused_business_s", Float, nullable=False, server_default="0"),
    Column("paused_since", DateTime(timezone=True)),
    Column("stopped_at", DateTime(timezone=True)),
    Column("at_risk_raised", Boolean, nullable=False, server_default=false()),
    Column("breached_raised", Boolean, nullable=False, server_default=false()),
    Column("due_at", DateTime(timezone=True)),
    Column("next_check_at", DateTime(timezone=True)),
    Column("met", Boolean),
    # 0003
    Column("trace_headers", JSONB),
    Index("ix_sla_clocks_ticket", "tenant_id", "ticket_id"),
    Index("ix_sla_clocks_next_check", "next_check_at", postgresql_where=text("next_check_at IS NOT NULL")),
)

timeline = Table(
    "timeline",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("data", JSONB, nullable=False),
    Index("ix_timeline_ticket", "tenant_id", "ticket_id", "time"),
)

# No RLS: read by background jobs for any tenant; keyed by tenant.
tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("config", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
