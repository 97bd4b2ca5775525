"""work_orders.eta, eta_from: the expected arrival computed when the technician sets off

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # technician.en-route carries the ETA to notify; the customer's page reads it from the work order.
    op.add_column("work_orders", sa.Column("eta", sa.DateTime(timezone=True), nullable=True))
    op.add_column("work_orders", sa.Column("eta_from", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("work_orders", "eta_from")
    op.drop_column("work_orders", "eta")
