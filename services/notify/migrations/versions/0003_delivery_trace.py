"""trace context of the event that planned a delivery (one trace per ticket)

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
    # Sending, marking and deferred sends run outside the consumer that planned the delivery; they
    # resume its trace from this (W3C traceparent/tracestate).
    op.add_column("deliveries", sa.Column("trace_headers", JSONB))


def downgrade() -> None:
    op.drop_column("deliveries", "trace_headers")
