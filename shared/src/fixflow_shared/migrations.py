"""Alembic helpers shared by every service: the async env.py body, a programmatic upgrade, and
the frozen v1 DDL of the outbox and inbox tables (shape kept in step with db.add_messaging_tables)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from fixflow_shared.db import asyncpg_dsn


def create_messaging_tables_v1(op: Any) -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


def run_env(context: Any, target_metadata: sa.MetaData) -> None:
    """Body of a service's migrations/env.py (online mode, asyncpg)."""
    url = context.config.get_main_option("sqlalchemy.url")

    def do_run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=sa.pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
            await conn.commit()
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run())


def alembic_config(service_dir: Path, database_url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def migration_lock_key(service_dir: Path) -> int:
    """The PostgreSQL advisory lock `upgrade` holds: one per service's migrations."""
    digest = hashlib.sha256(f"fixflow-migrate:{service_dir.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def upgrade(service_dir: Path, database_url: str, revision: str = "head") -> None:
    """Run migrations (blocking; call it in a thread from async code: it owns its event loop).

    Holds a PostgreSQL advisory lock for the whole run, on a connection of its own: two migrate
    Jobs (a retried Job, two releases applied at once) never run Alembic on one database at the
    same time; the second waits, then finds the database at head and does nothing."""

    async def locked() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", migration_lock_key(service_dir))
            # Alembic's env.py runs its own event loop: in a thread of its own while this one holds the lock.
            await asyncio.to_thread(command.upgrade, alembic_config(service_dir, database_url), revision)
        finally:
            await conn.close()  # releases the lock

    asyncio.run(locked())


def pending(service_dir: Path, database_url: str) -> set[str]:
    """Heads of the service's migrations the database is not at yet (empty: up to date).
    Blocking, like upgrade."""
    heads = set(ScriptDirectory.from_config(alembic_config(service_dir, database_url)).get_heads())

    async def current() -> set[str]:
        engine = create_async_engine(database_url, poolclass=sa.pool.NullPool)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
        finally:
            await engine.dispose()

    return heads - asyncio.run(current())
