"""insight's tables. Projections (facts, kpi_daily, quality_faults) are written across tenants by
the projector and rebuilt from the topics; they have no row-level security and every read filters
by tenant. Records people make here (quality rules, alerts, rectification steps, reports) are
insight's own data, kept by a rebuild, and carry the tenant policy (docs/adr/0005)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.deadletters import add_dead_letter_table

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
dead_letter_actions = add_dead_letter_table(metadata)  # operators' replays and discards
audit_log = add_audit_table(metadata)

PROJECTION_TABLES = ("facts", "kpi_daily", "kpi_monthly", "quality_faults", "tenants")

facts = Table(
    "facts",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("key", String(120), nullable=False),
    Column("data", JSONB, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key", name="pk_facts"),
)

kpi_daily = Table(
    "kpi_daily",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("dim", String(16), nullable=False),
    Column("dim_value", String(120), nullable=False),
    Column("day", Date, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("total", Float, nullable=False),
    Column("hist", JSONB(none_as_null=True)),  # durations: {"bucket": count}, see domain/sketch.py
    PrimaryKeyConstraint("tenant_id", "dim", "dim_value", "day", "metric", name="pk_kpi_daily"),
)

# One row per fault (a completed repair visit) and key it counts under: its product model, fault
# cause, each part, its production batch, and model|cause (domain/quality.py).
# The same aggregates summed per calendar month (day = the 1st): a year's KPIs read twelve rows per
# metric; the days at either end of a period come from kpi_daily.
kpi_monthly = Table(
    "kpi_monthly",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("dim", String(16), nullable=False),
    Column("dim_value", String(120), nullable=False),
    Column("day", Date, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("total", Float, nullable=False),
    Column("hist", JSONB(none_as_null=True)),
    PrimaryKeyConstraint("tenant_id", "dim", "dim_value", "day", "metric", name="pk_kpi_monthly"),
)

quality_faults = Table(
    "quality_faults",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("dimension", String(40), nullable=False),
    Column("key", String(250), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("visit", String(120), nullable=False),
    Column("day", Date, nullable=False),
    PrimaryKeyConstraint("tenant_id", "dimension", "key", "ticket_id", "visit", name="pk_quality_faults"),
    Index("ix_quality_faults_key_day", "tenant_id", "dimension", "key", "day"),
    Index("ix_quality_faults_dimension_day", "tenant_id", "dimension", "day"),
    Index("ix_quality_faults_ticket", "tenant_id", "ticket_id"),
)

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("first_event_at", DateTime(timezone=True), nullable=False),
)

quality_rules = Table(
    "quality_rules",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("rules", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200)),
)

quality_alerts = Table(
    "quality_alerts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("dimension", String(40), nullable=False),
    Column("key", String(250), nullable=False),
    Column("window_days", Integer, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("ticket_ids", JSONB, nullable=False),
    Column("status", String(32), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Index("ix_quality_alerts_tenant_raised", "tenant_id", "raised_at"),
)

# Which tickets an alert reported, so the same faults never raise a second alert (also after a rebuild).
quality_evidence = Table(
    "quality_evidence",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("key", String(250), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("alert_id", String(40), nullable=False),
    PrimaryKeyConstraint("tenant_id", "rule_id", "key", "ticket_id", name="pk_quality_evidence"),
)

rectification_steps = Table(
    "rectification_steps",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("alert_id", String(40), nullable=False),
    Column("step", String(32), nullable=False),
    Column("note", Text),
    Column("owner", String(200)),
    Column("due_on", Date),
    Column("customers_informed", Integer),
    Column("by", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_rectification_steps_alert", "tenant_id", "alert_id"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("month", Date, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("figures", JSONB, nullable=False),
    Column("csv", Text, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("requested_by", String(200)),
    Index("ix_reports_tenant_month", "tenant_id", "month"),
)

# The monthly schedule: one row per tenant and month, due when the month is over. The durable copy
# of the due timer (Redis only wakes the loop); scanned across tenants, so no row-level security.
report_schedule = Table(
    "report_schedule",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("month", Date, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("report_id", String(40)),
    PrimaryKeyConstraint("tenant_id", "month", name="pk_report_schedule"),
)

TENANT_TABLES = ("quality_rules", "quality_alerts", "rectification_steps", "reports")
