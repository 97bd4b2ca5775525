"""trace context of the request that opened a ticket (one trace per ticket)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # W3C traceparent/tracestate of the request that opened the ticket: clients send it back on
    # later requests, and SLA timers resume the ticket's trace with it.
    op.add_column("tickets", sa.Column("trace_headers", JSONB))
    op.add_column("sla_clocks", sa.Column("trace_headers", JSONB))


def downgrade() -> None:
    op.drop_column("sla_clocks", "trace_headers")
    op.drop_column("tickets", "trace_headers")
