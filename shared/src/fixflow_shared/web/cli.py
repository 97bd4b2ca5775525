"""The command line of a web application (`python -m console`, `python -m portal`): the commands
of every service image (fixflow_shared/cli.py), for an application that owns no database.
`migrate` and `await-migrations` succeed at once, so `make migrate` and the image's one-shot steps
treat it like the services; `serve` runs it under uvicorn; `healthcheck` asks its /healthz."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, Protocol, TypeVar


class _Listens(Protocol):
    http_host: str
    http_port: int


S = TypeVar("S", bound=_Listens)


def run_web_app(
    name: str,
    settings_cls: Callable[[], S],
    argv: list[str] | None = None,
    *,
    serve_options: Callable[[S], dict[str, Any]] | None = None,
) -> None:
    """`<name>.bootstrap.build(settings)` makes the application (imported only to serve);
    `serve_options(settings)` adds to uvicorn's options (the portal believes X-Forwarded-For from
    its ingress). Settings are read only by the commands that need them."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "serve"
    if cmd in ("migrate", "await-migrations"):
        print(f"{name}: {cmd}: no database (sessions live in Redis)")
        return
    settings = settings_cls()
    if cmd == "healthcheck":
        from fixflow_shared.cli import healthcheck

        healthcheck(settings.http_port)
    elif cmd == "serve":
        import uvicorn

        uvicorn.run(
            importlib.import_module(f"{name}.bootstrap").build(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=75,
            **(serve_options(settings) if serve_options else {}),
        )
    else:
        sys.exit(f"unknown command {cmd!r}: use serve, migrate, await-migrations or healthcheck")
