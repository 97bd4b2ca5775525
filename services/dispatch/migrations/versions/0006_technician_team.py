"""technicians.team_id: the team (service station) reports group a technician under

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("technicians", sa.Column("team_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("technicians", "team_id")
