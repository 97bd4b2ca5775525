"""check constraint under the name the naming convention means (ck_absences_ordered)

0002 passed the full name to a metadata whose convention prefixes ck_<table>_ again, so
PostgreSQL holds ck_absences_ck_absences_ordered. Renaming is a catalog change only.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE absences RENAME CONSTRAINT ck_absences_ck_absences_ordered TO ck_absences_ordered")


def downgrade() -> None:
    op.execute("ALTER TABLE absences RENAME CONSTRAINT ck_absences_ordered TO ck_absences_ck_absences_ordered")
