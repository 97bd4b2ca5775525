"""Tables of intake's database (the migrations in migrations/versions are the source of truth)."""

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from fixflow_shared.db import add_messaging_tables, new_metadata

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("symptom", Text, nullable=False),
    Column("customer_name", String(200)),
    Column("contact_email", String(320)),
    Column("contact_phone", String(40)),
    Column("locale", String(10), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)
