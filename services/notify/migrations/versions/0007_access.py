"""audit log of staff writes; recipient ids per tenant

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from fixflow_shared.db import create_audit_log_table_v1

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_log_table_v1(op)
    # recipient ids are a tenant's own: another tenant may use the same id
    op.execute("ALTER TABLE recipients DROP CONSTRAINT IF EXISTS recipients_pkey")
    op.execute("ALTER TABLE recipients DROP CONSTRAINT IF EXISTS pk_recipients")
    op.create_primary_key("pk_recipients", "recipients", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_constraint("pk_recipients", "recipients", type_="primary")
    op.create_primary_key("pk_recipients", "recipients", ["id"])
    op.drop_table("audit_log")
