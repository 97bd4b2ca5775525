"""Tables of notify's database, as its migrations build them (indexes, constraints and server defaults
included): tests/contract/test_migrations_match_models.py fails on any difference.

`deliveries` and `delivery_attempts` are scanned across tenants by the dispatcher (retries,
deferred sends, crash recovery), so they carry no row-level security: every query filters by
tenant explicitly. The other tenant tables use RLS.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.deadletters import add_dead_letter_table

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
dead_letter_actions = add_dead_letter_table(metadata)  # operators' replays and discards
audit_log = add_audit_table(metadata)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(64)),
    Column("trigger_event_id", String(36), nullable=False),
    Column("trigger_event_type", String(200), nullable=False),
    Column("audience", String(20), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(1000), nullable=False),
    Column("recipient_ref", String(100)),
    Column("template", String(100), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("locale", String(10), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("mandatory", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", DateTime(timezone=True)),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("provider", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("trace_headers", JSONB),  # 0003
    # One message per (event, recipient, channel), however often the event arrives.
    UniqueConstraint("tenant_id", "trigger_event_id", "channel", "recipient", name="uq_deliveries_once"),
    Index("ix_deliveries_ticket", "tenant_id", "ticket_id", "created_at"),
    Index("ix_deliveries_due", "not_before", postgresql_where=text("status IN ('pending', 'deferred')")),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False, index=True),
    Column("tenant_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("provider", String(200), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | retry | failover | failed
    Column("error", Text),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

contacts = Table(
    "contacts",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("ticket_id", String(64), primary_key=True),
    Column("customer_id", String(64)),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("locale", String(10), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

templates = Table(
    "templates",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "name", "channel", "locale", "version", name="uq_templates_version"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("recipient", String(320), primary_key=True),  # customer/technician id, or an address
    Column("channels", JSONB),
    Column("opted_out", Boolean, nullable=False, server_default="false"),
    Column("quiet_start", Time),
    Column("quiet_end", Time),
    Column("quiet_tz", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", String(64), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("role", String(20), nullable=False),  # manager | technician | quality
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("locale", String(10), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id", name="pk_recipients"),  # 0007: ids are per tenant
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("event_types", JSONB, nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # 0006: contact details only when asked for, and only while the owner's role may see them
    Column("include_contact", Boolean, nullable=False, server_default="false"),
    Column("owner_subject", String(200)),
    Column("owner_roles", JSONB, nullable=False, server_default="[]"),
)

feed_items = Table(
    "feed_items",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("recipient", String(100), nullable=False),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("ticket_id", String(64)),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_feed_items_recipient", "tenant_id", "recipient", "id"),
)
