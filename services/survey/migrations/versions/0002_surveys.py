"""survey plans, surveys, responses, revisits, due timers

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

TENANT_TABLES = ("survey_plans", "surveys", "survey_responses", "revisit_customers", "revisits")


def upgrade() -> None:
    op.create_table(
        "survey_plans",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("config", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200)),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("technician_id", sa.String(64)),
        sa.Column("team_id", sa.String(64)),
        sa.Column("contact_email", sa.String(320)),
        sa.Column("contact_phone", sa.String(40)),
        sa.Column("locale", sa.String(10), nullable=False, server_default="zh-CN"),
        sa.Column("major", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("token_nonce", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_surveys_tenant_ticket", "surveys", ["tenant_id", "ticket_id"])
    op.create_index("ix_surveys_tenant_sent", "surveys", ["tenant_id", "sent_at"])
    op.create_table(
        "survey_responses",
        sa.Column("survey_id", sa.String(40), sa.ForeignKey("surveys.id"), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("technician_id", sa.String(64)),
        sa.Column("team_id", sa.String(64)),
        sa.Column("scores", postgresql.JSONB, nullable=False),
        sa.Column("nps", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("dissatisfied", sa.Boolean, nullable=False),
        sa.Column("reasons", postgresql.JSONB, nullable=False),
        sa.Column("praise", sa.Boolean, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps_range"),
    )
    op.create_index(
        "ix_survey_responses_tenant_tech", "survey_responses", ["tenant_id", "technician_id", "answered_at"]
    )
    op.create_table(
        "revisit_customers",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("last_ticket_id", sa.String(64)),
        sa.Column("next_revisit_on", sa.Date, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "revisits",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_ticket_id", sa.String(64)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("satisfied", sa.Boolean),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("completed_by", sa.String(200)),
    )
    op.create_index("ix_revisits_tenant_status", "revisits", ["tenant_id", "status", "due_on"])
    op.create_table(
        "due_timers",
        sa.Column("timer_id", sa.String(160), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.String(120), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_due_timers_pending", "due_timers", ["due_at"], postgresql_where=sa.text("fired_at IS NULL"))
    op.create_index("ix_due_timers_ref", "due_timers", ["ref_id"])
    for table in TENANT_TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_table("due_timers")
    op.drop_table("revisits")
    op.drop_table("revisit_customers")
    op.drop_table("survey_responses")
    op.drop_table("surveys")
    op.drop_table("survey_plans")
