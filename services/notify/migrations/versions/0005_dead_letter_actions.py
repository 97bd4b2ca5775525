"""the audit of operators' actions on dead letters (replayed, discarded)

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from fixflow_shared.deadletters import create_dead_letter_table_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dead_letter_table_v1(op)


def downgrade() -> None:
    op.drop_table("dead_letter_actions")
