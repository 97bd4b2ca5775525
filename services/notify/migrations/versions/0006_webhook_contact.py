"""webhooks carry contact details only when asked for and while their owner's role may see them

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhook_endpoints", sa.Column("include_contact", sa.Boolean(), nullable=False, server_default="false")
    )
    op.add_column("webhook_endpoints", sa.Column("owner_subject", sa.String(200)))
    op.add_column("webhook_endpoints", sa.Column("owner_roles", JSONB, nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("webhook_endpoints", "owner_roles")
    op.drop_column("webhook_endpoints", "owner_subject")
    op.drop_column("webhook_endpoints", "include_contact")
