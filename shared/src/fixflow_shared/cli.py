"""The command line every service has: `python -m <service> [serve|migrate|await-migrations|healthcheck]`.

serve             the API, consumers, relay and timers (never migrates)
migrate           alembic upgrade head: run once per release, as its own step (a compose one-shot
                  service, a Kubernetes Job), not at every container start
await-migrations  wait until the database is at this code's migration head (a Kubernetes init
                  container, so a new version never serves on an old schema); exit 1 after
                  FIXFLOW_MIGRATION_WAIT_S seconds (default 600)
healthcheck       exit 0 when the service answers /healthz on its port (the image's HEALTHCHECK)
topics            create the project's Kafka topics that are missing (docker-compose's one-shot
                  `topics` container; Kubernetes declares them as Strimzi KafkaTopic resources)
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, TypedDict

from fixflow_shared.settings import ServiceSettings

_SERVICE_ENV = "FIXFLOW_SERVICE_MODULE"


def app_from_environment() -> Any:
    """uvicorn's factory in each worker process (see `serve` with more than one worker)."""
    name, settings_path = os.environ[_SERVICE_ENV].split(":", 1)
    module, _, cls = settings_path.rpartition(".")
    settings_cls = getattr(importlib.import_module(module), cls)
    return importlib.import_module(f"{name}.bootstrap").build(settings_cls())[1]


def service_dir(name: str) -> Path:
    """services/<name>/, which holds alembic.ini and migrations/ (the package is installed editable)."""
    return Path(importlib.import_module(name).__file__ or "").resolve().parents[2]


def await_migrations(name: str, database_url: str, timeout_s: float, poll_s: float = 2.0) -> None:
    from fixflow_shared.migrations import pending

    deadline = time.monotonic() + timeout_s
    while missing := pending(service_dir(name), database_url):
        if time.monotonic() >= deadline:
            sys.exit(f"{name}: the database is not at migration head {sorted(missing)}: run `migrate`")
        time.sleep(poll_s)


def healthcheck(port: int) -> None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            ok = response.status == 200
    except OSError as e:
        sys.exit(f"unhealthy: {e}")
    sys.exit(0 if ok else 1)


class _ServeOptions(TypedDict):
    host: str
    port: int
    log_config: None
    access_log: bool
    timeout_keep_alive: int


def run_service(name: str, settings_cls: type[ServiceSettings], argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "serve"
    if cmd == "topics":  # needs only KAFKA_BOOTSTRAP_SERVERS, not the service's settings
        from fixflow_shared.topics import main as topics_main

        topics_main(["create"])
        return
    settings = settings_cls()
    if cmd == "migrate":
        from fixflow_shared.migrations import upgrade

        upgrade(service_dir(name), settings.database_url)
    elif cmd == "await-migrations":
        await_migrations(name, settings.database_url, float(os.environ.get("FIXFLOW_MIGRATION_WAIT_S", "600")))
    elif cmd == "healthcheck":
        healthcheck(settings.http_port)
    elif cmd == "serve":
        import uvicorn

        # Keep-alive longer than the idle timeout of the load balancers in front (often 60 s): with
        # uvicorn's 5 s, a client reusing a connection the server is closing gets a reset (seen as
        # ReadError in the lifecycle bench, and as 502s behind proxies).
        serve = _ServeOptions(
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=75,
        )
        if settings.http_workers > 1:
            # Workers are separate processes on one socket: each builds its own app from the environment.
            os.environ[_SERVICE_ENV] = f"{name}:{settings_cls.__module__}.{settings_cls.__qualname__}"
            uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=settings.http_workers, **serve)
        else:
            _, app = importlib.import_module(f"{name}.bootstrap").build(settings)
            uvicorn.run(app, **serve)
    else:
        sys.exit(f"unknown command {cmd!r}: use serve, migrate, await-migrations, healthcheck or topics")
