"""contract visit usage per contract year (quotas reset on each anniversary of valid_from)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from fixflow_shared.db import rls_statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_visit_usage",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.String(40), nullable=False),
        sa.Column("year_start", sa.Date, nullable=False),
        sa.Column("visits_used", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "contract_id", "year_start", name="pk_contract_visit_usage"),
        sa.CheckConstraint("visits_used >= 0", name="ck_contract_visit_usage_not_negative"),
    )
    for stmt in rls_statements("contract_visit_usage"):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("contract_visit_usage")
