"""parts_requests without job or work order: return pickups by logistics

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A return pickup (退换货) is a logistics request with no visit behind it: the foreign keys stay,
    # the columns become optional.
    op.alter_column("parts_requests", "job_id", nullable=True)
    op.alter_column("parts_requests", "work_order_id", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM parts_requests WHERE job_id IS NULL OR work_order_id IS NULL")
    op.alter_column("parts_requests", "work_order_id", nullable=False)
    op.alter_column("parts_requests", "job_id", nullable=False)
