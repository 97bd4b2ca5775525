"""The command line every service has: `python -m <service> [serve|migrate]`."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from fixflow_shared.settings import ServiceSettings

_SERVICE_ENV = "FIXFLOW_SERVICE_MODULE"


def app_from_environment() -> Any:
    """uvicorn's factory in each worker process (see `serve` with more than one worker)."""
    name, settings_path = os.environ[_SERVICE_ENV].split(":", 1)
    module, _, cls = settings_path.rpartition(".")
    settings_cls = getattr(importlib.import_module(module), cls)
    return importlib.import_module(f"{name}.bootstrap").build(settings_cls())[1]


def run_service(name: str, settings_cls: type[ServiceSettings], argv: list[str] | None = None) -> None:
    """serve: migrations are not run here (deployments run `migrate` first, as an init step);
    migrate: alembic upgrade head with the service's own migrations."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "serve"
    settings = settings_cls()  # type: ignore[call-arg]
    if cmd == "migrate":
        from fixflow_shared.migrations import upgrade

        package_dir = Path(importlib.import_module(name).__file__ or "").resolve().parent
        upgrade(package_dir.parents[1], settings.database_url)  # services/<name>/ holds alembic.ini
    elif cmd == "serve":
        import uvicorn

        # Keep-alive longer than the idle timeout of the load balancers in front (often 60 s): with
        # uvicorn's 5 s, a client reusing a connection the server is closing gets a reset (seen as
        # ReadError in the lifecycle bench, and as 502s behind proxies).
        serve = {
            "host": settings.http_host,
            "port": settings.http_port,
            "log_config": None,
            "access_log": False,
            "timeout_keep_alive": 75,
        }
        if settings.http_workers > 1:
            # Workers are separate processes on one socket: each builds its own app from the environment.
            os.environ[_SERVICE_ENV] = f"{name}:{settings_cls.__module__}.{settings_cls.__qualname__}"
            uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=settings.http_workers, **serve)
        else:
            _, app = importlib.import_module(f"{name}.bootstrap").build(settings)
            uvicorn.run(app, **serve)
    else:
        sys.exit(f"unknown command {cmd!r}: use serve or migrate")
