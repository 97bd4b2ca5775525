"""check constraints under the names the naming convention means (ck_<table>_<name>)

The earlier migrations passed full names to a metadata whose convention prefixes ck_<table>_
again, so PostgreSQL holds ck_invoices_ck_invoices_paid_range and the like. Renaming is a catalog
change only (no table rewrite, no lock beyond a moment's ACCESS EXCLUSIVE).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENAMES = [  # (table, constraint name without the ck_<table>_ prefix)
    ("invoices", "total_not_negative"),
    ("invoices", "paid_range"),
    ("payments", "positive"),
    ("customer_credits", "not_negative"),
    ("credit_entries", "not_zero"),
    ("contract_visit_usage", "not_negative"),
]


def upgrade() -> None:
    for table, name in RENAMES:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT ck_{table}_ck_{table}_{name} TO ck_{table}_{name}")


def downgrade() -> None:
    for table, name in RENAMES:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT ck_{table}_{name} TO ck_{table}_ck_{table}_{name}")
