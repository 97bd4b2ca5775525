"""phone numbers stored by notify move to E.164 (the one phone rule of fixflow_shared.contacts)

Revision ID: 0004
Revises: 0003
"""

import json
import os

import sqlalchemy as sa
from alembic import op

from fixflow_shared.contacts import InvalidContact, PhoneRegions, normalise_phone

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PHONE_LIKE = r"^\+?[0-9 ()-]{5,}$"


def _regions() -> PhoneRegions:
    """The regions the services read numbers in (the same settings as ServiceSettings)."""
    return PhoneRegions(
        default=os.environ.get("FIXFLOW_PHONE_REGION", "CN"),
        by_tenant=json.loads(os.environ.get("FIXFLOW_TENANT_PHONE_REGIONS") or "{}"),
    )


def upgrade() -> None:
    # notify used to keep numbers as written (13800138000) while intake sends E.164
    # (+8613800138000): a preference keyed by the old form never matched. Rows of every tenant are
    # rewritten, so row-level security is lifted for the owner inside this transaction only.
    bind = op.get_bind()
    regions = _regions()
    for table, column in (("preferences", "recipient"), ("recipients", "phone")):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        rows = bind.execute(
            sa.text(f"SELECT DISTINCT tenant_id, {column} FROM {table} WHERE {column} ~ :pattern"),
            {"pattern": _PHONE_LIKE},
        ).all()
        for tenant, old in rows:
            try:
                new = normalise_phone(old, regions.region_for(tenant))
            except InvalidContact:
                continue  # not a number after all (or not one of this tenant's region): left as it is
            if new == old:
                continue
            if table == "preferences":  # a preference already saved under the E.164 key wins
                bind.execute(
                    sa.text(
                        "UPDATE preferences SET recipient = :new WHERE tenant_id = :t AND recipient = :old "
                        "AND NOT EXISTS (SELECT 1 FROM preferences WHERE tenant_id = :t AND recipient = :new)"
                    ),
                    {"t": tenant, "old": old, "new": new},
                )
            else:
                bind.execute(
                    sa.text("UPDATE recipients SET phone = :new WHERE tenant_id = :t AND phone = :old"),
                    {"t": tenant, "old": old, "new": new},
                )
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    pass  # E.164 keys stay valid for the older code's lookups of E.164 numbers
