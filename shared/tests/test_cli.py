"""The service command line's container commands: healthcheck (the image's HEALTHCHECK) and
await-migrations (the init container that keeps a new version off an old schema)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from alembic import command

from fixflow_shared.cli import await_migrations, healthcheck, service_dir
from fixflow_shared.migrations import alembic_config, pending


def serving(status: int) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def healthy_port() -> Iterator[int]:
    yield from serving(200)


@pytest.fixture
def unhealthy_port() -> Iterator[int]:
    yield from serving(503)


def exit_code(run: Callable[[], None]) -> object:
    with pytest.raises(SystemExit) as e:
        run()
    return e.value.code


def test_healthcheck_passes_only_when_healthz_answers_200(healthy_port: int, unhealthy_port: int) -> None:
    assert exit_code(lambda: healthcheck(healthy_port)) == 0
    assert exit_code(lambda: healthcheck(unhealthy_port)) not in (0, None)


def test_healthcheck_fails_when_nothing_listens() -> None:
    server = serving(200)
    closed = next(server)
    next(server, None)  # shut down: the port was ours a moment ago and nothing listens on it now
    code = exit_code(lambda: healthcheck(closed))
    assert isinstance(code, str) and code.startswith("unhealthy")


def test_await_migrations_waits_for_the_head(make_database: Callable[[str], str]) -> None:
    url = make_database("survey")
    assert pending(service_dir("survey"), url) == set()
    await_migrations("survey", url, timeout_s=0)  # up to date: returns at once

    command.downgrade(alembic_config(service_dir("survey"), url), "-1")
    missing = pending(service_dir("survey"), url)
    assert len(missing) == 1
    code = exit_code(lambda: await_migrations("survey", url, timeout_s=0))
    assert isinstance(code, str) and "run `migrate`" in code

    upgraded = threading.Thread(target=command.upgrade, args=(alembic_config(service_dir("survey"), url), "head"))
    upgraded.start()
    await_migrations("survey", url, timeout_s=120, poll_s=0.2)  # returns once the upgrade lands
    upgraded.join()
    assert pending(service_dir("survey"), url) == set()


def test_migrate_holds_a_lock_so_two_migrations_never_run_at_once(make_database: Callable[[str], str]) -> None:
    """A second migrate (another Job, a retry) waits on the advisory lock the first holds, then
    finds the database at head and does nothing."""
    import asyncio

    import asyncpg

    from fixflow_shared.db import asyncpg_dsn
    from fixflow_shared.migrations import migration_lock_key, upgrade

    url = make_database("survey")
    command.downgrade(alembic_config(service_dir("survey"), url), "-1")
    key = migration_lock_key(service_dir("survey"))

    async def holding(then: Callable[[], None]) -> None:
        """Hold the migrations' lock (as a running migrate does) while `then` runs in a thread."""
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", key)
            await asyncio.to_thread(then)
        finally:
            await conn.close()

    waiting = threading.Thread(target=upgrade, args=(service_dir("survey"), url))

    def start_and_see_it_wait() -> None:
        waiting.start()

        async def blocked() -> int:
            conn = await asyncpg.connect(asyncpg_dsn(url))
            try:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                        " AND ((classid::bigint << 32) | objid::bigint) = ($1::bigint & x'ffffffffffffffff'::bigint)",
                        key,
                    )
                )
            finally:
                await conn.close()

        from fixflow_shared.testing import eventually_blocking

        eventually_blocking(lambda: asyncio.run(blocked()), lambda n: n == 1, what="the second migrate waiting")
        assert len(pending(service_dir("survey"), url)) == 1, "nothing migrated while the lock is held"

    asyncio.run(holding(start_and_see_it_wait))
    waiting.join(120)  # the lock released: it migrates
    assert not waiting.is_alive() and pending(service_dir("survey"), url) == set()
    upgrade(service_dir("survey"), url)  # a second run at head does nothing, and does not fail
