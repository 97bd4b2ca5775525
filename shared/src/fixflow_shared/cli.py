"""The command line every service has: `python -m <service> [serve|migrate]`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from fixflow_shared.settings import ServiceSettings


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

        _, app = importlib.import_module(f"{name}.bootstrap").build(settings)
        uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)
    else:
        sys.exit(f"unknown command {cmd!r}: use serve or migrate")
