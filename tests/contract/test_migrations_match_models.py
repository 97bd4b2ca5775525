"""The tables each service declares in code are the tables its migrations build.

A fresh database migrated to head (make_database, real PostgreSQL) is compared with the service's
SQLAlchemy metadata in two ways:
- Alembic's autogenerate comparison: tables, columns, types, nullability, server defaults, indexes,
  unique and foreign-key constraints, listed the way `alembic revision --autogenerate` would;
- what Alembic does not compare (the predicate of a partial index, check constraints): the metadata
  is created in a scratch schema of the same database and PostgreSQL's own definitions of both
  sides' indexes and check constraints must be equal.
Any difference fails; the fix is a new migration (or a model that says what the database holds).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parents[1].name for p in ROOT.glob("services/*/migrations/env.py"))

pytestmark = pytest.mark.integration


def declared_metadata(service: str) -> sa.MetaData:
    module = f"{service}.adapters.orm"
    env = (ROOT / "services" / service / "migrations" / "env.py").read_text()
    assert f"from {module} import metadata" in env, f"{service}'s migrations/env.py should use {module}.metadata"
    return importlib.import_module(module).metadata


async def differences(database_url: str, metadata: sa.MetaData) -> list[Any]:
    engine = create_async_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: sa.Connection) -> list[Any]:
                context = MigrationContext.configure(
                    sync_conn, opts={"compare_type": True, "compare_server_default": True}
                )
                return compare_metadata(context, metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def catalog(database_url: str, metadata: sa.MetaData) -> dict[str, dict[str, str]]:
    """{"public": {...}, "models": {...}}: index and check-constraint definitions, by name, of the
    migrated tables and of the same metadata created in a scratch schema."""
    engine = create_async_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE SCHEMA models"))
            await conn.run_sync(
                lambda c: metadata.create_all(c.execution_options(schema_translate_map={None: "models"}))
            )
            indexes = await conn.execute(
                sa.text(
                    "SELECT schemaname, indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes "
                    "WHERE schemaname IN ('public', 'models') AND tablename <> 'alembic_version'"
                )
            )
            checks = await conn.execute(
                sa.text(
                    "SELECT n.nspname, t.relname || '.' || c.conname, pg_get_constraintdef(c.oid) "
                    "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                    "JOIN pg_namespace n ON n.oid = t.relnamespace "
                    "WHERE c.contype = 'c' AND n.nspname IN ('public', 'models')"
                )
            )
            found: dict[str, dict[str, str]] = {"public": {}, "models": {}}
            for schema, name, definition in [*indexes, *checks]:
                found[schema][name] = definition
            await conn.execute(sa.text("DROP SCHEMA models CASCADE"))
            return found
    finally:
        await engine.dispose()


def test_every_service_with_migrations_is_checked() -> None:
    assert SERVICES, "no services/*/migrations found"
    on_disk = {p.parent.name for p in ROOT.glob("services/*/alembic.ini")}
    assert on_disk == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_the_tables_the_code_declares(service: str, make_database: Callable[[str], str]) -> None:
    diff = await differences(make_database(service), declared_metadata(service))
    assert not diff, f"{service}: migrations and models differ:\n" + "\n".join(f"  {d!r}" for d in diff)


@pytest.mark.parametrize("service", SERVICES)
async def test_indexes_and_check_constraints_are_defined_alike(
    service: str, make_database: Callable[[str], str]
) -> None:
    found = await catalog(make_database(service), declared_metadata(service))
    migrated, modelled = found["public"], found["models"]
    assert migrated, "the migrated database has no indexes: wrong database?"
    differ = [
        f"  {name}:\n    migrations: {migrated.get(name)}\n    models:     {modelled.get(name)}"
        for name in sorted(migrated.keys() | modelled.keys())
        if migrated.get(name) != modelled.get(name)
    ]
    assert not differ, f"{service}: indexes or check constraints differ:\n" + "\n".join(differ)
