"""Database plumbing every service shares: engine, naming convention, outbox and inbox tables,
tenant scoping for PostgreSQL row-level security."""

from __future__ import annotations

from typing import Any, cast

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_SETTING = "app.tenant_id"


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Outbox (events waiting for the relay) and inbox (event ids already applied)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        # The relay scans only unsent rows; this partial index keeps that cheap as the table grows.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("event_id", UUID(as_uuid=False), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )
    return outbox, inbox


def add_audit_table(metadata: MetaData) -> Table:
    """Every staff and partner write of the service (fixflow_shared.audit)."""
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tenant_id", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("subject", String(200), nullable=False),
        Column("roles", JSONB, nullable=False),
        Column("action", String(64), nullable=False),
        Column("object_id", String(200)),
        Column("method", String(8), nullable=False),
        Column("path", String(500), nullable=False),
        Column("status", Integer, nullable=False),
        Column("request_id", String(64), nullable=False),
        Column("trace_id", String(32)),
        Index("ix_audit_log_tenant_at", "tenant_id", "at"),
        Index("ix_audit_log_tenant_object", "tenant_id", "object_id"),
        Index("ix_audit_log_tenant_subject", "tenant_id", "subject"),
    )


def make_engine(database_url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per checkout on the hot path. A connection broken by a
        # database restart fails once, invalidates the pool, and the caller's retry gets a new one.
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
        # A database error's message must not carry the statement's values (phone numbers, e-mails)
        # into logs and traces: SQLAlchemy then says "[SQL parameters hidden due to hide_parameters=True]".
        hide_parameters=True,
        # JSON/JSONB columns (timeline data, outbox headers, settings) through orjson: several times
        # faster than the json module on every row written and read.
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def set_tenant(session: AsyncSession, tenant: str) -> None:
    """Scope the current transaction to a tenant (read by the row-level-security policies)."""
    await session.execute(text("SELECT set_config(:k, :v, true)"), {"k": TENANT_SETTING, "v": tenant})


def rls_statements(table: str, column: str = "tenant_id") -> list[str]:
    """SQL for a migration: only rows of the transaction's tenant are visible or writable.

    FORCE makes the policy apply to the table owner too (our service role owns its tables).
    Tenant-wide jobs (timers, relays) use tables without RLS or set the tenant per row.
    """
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = current_setting('{TENANT_SETTING}', true)) "
        f"WITH CHECK ({column} = current_setting('{TENANT_SETTING}', true))",
    ]


def asyncpg_dsn(database_url: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... for a raw asyncpg connection (LISTEN)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE/INSERT touched: `Session.execute` is typed as returning `Result`, while
    the DML statements return a `CursorResult`, the one that counts rows."""
    return int(cast("CursorResult[Any]", result).rowcount)


def create_audit_log_table_v1(op: Any) -> None:
    """The audit log as a service's migration creates it (frozen: a later change is a migration of
    its own), row-level secured by tenant like every tenant table."""
    import sqlalchemy as sa

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("roles", JSONB, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(200)),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_tenant_at", "audit_log", ["tenant_id", "at"])
    op.create_index("ix_audit_log_tenant_object", "audit_log", ["tenant_id", "object_id"])
    op.create_index("ix_audit_log_tenant_subject", "audit_log", ["tenant_id", "subject"])
    for stmt in rls_statements("audit_log"):
        op.execute(stmt)
