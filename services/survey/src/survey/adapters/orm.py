"""Tables of survey's database, as its migrations build them (indexes, constraints and server defaults
included): tests/contract/test_migrations_match_models.py fails on any difference."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
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

survey_plans = Table(
    "survey_plans",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("config", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200)),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("round", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("reminders_sent", Integer, nullable=False, server_default="0"),
    Column("customer_id", String(64)),
    Column("technician_id", String(64)),
    Column("team_id", String(64)),
    Column("contact_email", String(320)),
    Column("contact_phone", String(40)),
    Column("locale", String(10), nullable=False, server_default="zh-CN"),
    Column("major", Boolean, nullable=False, server_default=false()),
    Column("resolved_at", DateTime(timezone=True)),
    Column("token_nonce", String(64), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("trace_headers", JSONB),  # 0003
    Index("ix_surveys_tenant_ticket", "tenant_id", "ticket_id"),
    Index("ix_surveys_tenant_sent", "tenant_id", "sent_at"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("survey_id", String(40), ForeignKey("surveys.id"), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("technician_id", String(64)),
    Column("team_id", String(64)),
    Column("scores", JSONB, nullable=False),
    Column("nps", Integer),
    Column("comment", Text),
    Column("dissatisfied", Boolean, nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("praise", Boolean, nullable=False),
    Column("via", String(16), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps_range"),
    Index("ix_survey_responses_tenant_tech", "tenant_id", "technician_id", "answered_at"),
)

revisit_customers = Table(
    "revisit_customers",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("grade", String(8), nullable=False),
    Column("last_ticket_id", String(64)),
    Column("next_revisit_on", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

revisits = Table(
    "revisits",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("grade", String(8), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_ticket_id", String(64)),
    Column("outcome", String(16)),
    Column("satisfied", Boolean),
    Column("notes", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("completed_by", String(200)),
    Index("ix_revisits_tenant_status", "tenant_id", "status", "due_on"),
)

# Durable copy of the due timers (Redis only wakes the loop). Scanned across tenants by the timer
# loop, so no row-level security: it holds ids and times only, no customer data.
due_timers = Table(
    "due_timers",
    metadata,
    Column("timer_id", String(160), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref_id", String(120), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True)),
    Index("ix_due_timers_pending", "due_at", postgresql_where=text("fired_at IS NULL")),
    Index("ix_due_timers_ref", "ref_id"),
)
