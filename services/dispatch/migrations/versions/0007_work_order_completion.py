"""work_orders.completion: what the technician recorded at completion

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What failed, the work type, whose fault, adjustments, freight and the internal flag, recorded
    # at completion; work-order.completed v1.1 carries them to billing and insight. Older rows stay NULL.
    op.add_column("work_orders", sa.Column("completion", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("work_orders", "completion")
