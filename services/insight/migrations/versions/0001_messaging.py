"""outbox, inbox

Revision ID: 0001
Revises:
"""

from alembic import op

from fixflow_shared.migrations import create_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1(op)


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")
