"""trace context of the ticket.resolved that scheduled a survey (one trace per ticket)

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
    # The send / reminder / expiry timers resume this W3C context, so survey.sent (and what
    # follows from it) stays in the ticket's one trace.
    op.add_column("surveys", sa.Column("trace_headers", JSONB))


def downgrade() -> None:
    op.drop_column("surveys", "trace_headers")
