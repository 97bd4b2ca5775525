"""tickets, outbox, inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from fixflow_shared.db import rls_statements
from fixflow_shared.migrations import create_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1(op)
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("symptom", sa.Text, nullable=False),
        sa.Column("customer_name", sa.String(200)),
        sa.Column("contact_email", sa.String(320)),
        sa.Column("contact_phone", sa.String(40)),
        sa.Column("locale", sa.String(10), nullable=False, server_default="zh-CN"),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_tickets_tenant_status", "tickets", ["tenant_id", "status", "opened_at"])
    for stmt in rls_statements("tickets"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("tickets")
    op.drop_table("inbox")
    op.drop_table("outbox")
