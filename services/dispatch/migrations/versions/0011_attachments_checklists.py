"""attachments (signature images, photos, service reports) kept in dispatch's database; checklists per
job kind and each work order's answers

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import rls_statements

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("work_order_id", sa.String(40), sa.ForeignKey("work_orders.id"), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("caption", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "work_order_id", "kind", "sha256", name="uq_attachments_content"),
        sa.CheckConstraint("size <= 2097152", name=op.f("ck_attachments_size")),
    )
    op.create_index("ix_attachments_ticket", "attachments", ["ticket_id"])
    op.create_table(
        "checklists",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("job_kind", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("work_orders", sa.Column("checklist_answers", JSONB))
    for table in ("attachments", "checklists"):
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    op.drop_column("work_orders", "checklist_answers")
    op.drop_table("checklists")
    op.drop_index("ix_attachments_ticket", table_name="attachments")
    op.drop_table("attachments")
