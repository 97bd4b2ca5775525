"""Tables of survey's database (the migrations in migrations/versions are the source of truth)."""

from fixflow_shared.db import add_messaging_tables, new_metadata

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
