"""projections (facts, daily KPI aggregates, quality faults), quality rules, alerts and their
rectification, monthly reports and their schedule

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fixflow_shared.db import rls_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT_TABLES = ("quality_rules", "quality_alerts", "rectification_steps", "reports")
HIST_ADD = """
CREATE FUNCTION insight_hist_add(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN b IS NULL OR jsonb_typeof(b) <> 'object' THEN a
              WHEN a IS NULL OR jsonb_typeof(a) <> 'object' THEN b
              ELSE a || (SELECT jsonb_object_agg(key, coalesce((a ->> key)::bigint, 0) + value::bigint)
                         FROM jsonb_each_text(b)) END
$$
"""


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_facts"),
    )
    op.create_table(
        "kpi_daily",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("dim_value", sa.String(120), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("hist", postgresql.JSONB),
        sa.PrimaryKeyConstraint("tenant_id", "dim", "dim_value", "day", "metric", name="pk_kpi_daily"),
    )
    op.create_table(
        "kpi_monthly",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("dim", sa.String(16), nullable=False),
        sa.Column("dim_value", sa.String(120), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("hist", postgresql.JSONB),
        sa.PrimaryKeyConstraint("tenant_id", "dim", "dim_value", "day", "metric", name="pk_kpi_monthly"),
    )
    # Histograms add bucket by bucket when a delta lands on an existing day (a delta has few buckets:
    # only those are visited; a bucket back at 0 stays as 0).
    op.execute(HIST_ADD)
    op.create_table(
        "quality_faults",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(40), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("visit", sa.String(120), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "dimension", "key", "ticket_id", "visit", name="pk_quality_faults"),
    )
    op.create_index("ix_quality_faults_key_day", "quality_faults", ["tenant_id", "dimension", "key", "day"])
    op.create_index("ix_quality_faults_dimension_day", "quality_faults", ["tenant_id", "dimension", "day"])
    op.create_index("ix_quality_faults_ticket", "quality_faults", ["tenant_id", "ticket_id"])
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("first_event_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "quality_rules",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("rules", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200)),
    )
    op.create_table(
        "quality_alerts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(40), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("window_days", sa.Integer, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("ticket_ids", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quality_alerts_tenant_raised", "quality_alerts", ["tenant_id", "raised_at"])
    op.create_table(
        "quality_evidence",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id", "key", "ticket_id", name="pk_quality_evidence"),
    )
    op.create_table(
        "rectification_steps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("owner", sa.String(200)),
        sa.Column("due_on", sa.Date),
        sa.Column("customers_informed", sa.Integer),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rectification_steps_alert", "rectification_steps", ["tenant_id", "alert_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("figures", postgresql.JSONB, nullable=False),
        sa.Column("csv", sa.Text, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(200)),
    )
    op.create_index("ix_reports_tenant_month", "reports", ["tenant_id", "month"])
    op.create_table(
        "report_schedule",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_id", sa.String(40)),
        sa.PrimaryKeyConstraint("tenant_id", "month", name="pk_report_schedule"),
    )
    for table in TENANT_TABLES:
        for statement in rls_statements(table):
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION insight_hist_add(jsonb, jsonb)")
    for table in (
        "report_schedule",
        "reports",
        "rectification_steps",
        "quality_evidence",
        "quality_alerts",
        "quality_rules",
        "tenants",
        "quality_faults",
        "kpi_monthly",
        "kpi_daily",
        "facts",
    ):
        op.drop_table(table)
