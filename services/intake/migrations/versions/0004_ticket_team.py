"""tickets.team_id: the team of the technician who works the ticket (for survey's figures by team)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Dispatch owns teams; technician.assigned / work-order.completed (v1.1) carry the technician's
    # team, intake keeps it beside technician_id and sends it on ticket.resolved (v1.1).
    op.add_column("tickets", sa.Column("team_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("tickets", "team_id")
