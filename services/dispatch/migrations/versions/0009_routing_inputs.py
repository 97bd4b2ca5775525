"""what routes need: a job's region, crew size and parts; a technician's depot

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Regions are hard constraints: the job keeps the site's region (e.g. CN-31) to match against
    # the technician's. A crew job books several technicians at one time. A job waiting for parts
    # knows which parts, who holds (or will receive) them and when they arrive.
    op.add_column("jobs", sa.Column("region", sa.String(32), nullable=True))
    op.add_column("jobs", sa.Column("crew_size", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column("jobs", sa.Column("parts", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.add_column("jobs", sa.Column("parts_holder", sa.String(40), nullable=True))
    op.add_column("jobs", sa.Column("parts_eta", sa.DateTime(timezone=True), nullable=True))
    # A technician's day starts and ends at the depot when one is set, else at home.
    op.add_column("technicians", sa.Column("depot_lat", sa.Float(), nullable=True))
    op.add_column("technicians", sa.Column("depot_lon", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("technicians", "depot_lon")
    op.drop_column("technicians", "depot_lat")
    op.drop_column("jobs", "parts_eta")
    op.drop_column("jobs", "parts_holder")
    op.drop_column("jobs", "parts")
    op.drop_column("jobs", "crew_size")
    op.drop_column("jobs", "region")
