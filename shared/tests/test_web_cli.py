"""The web applications' command line: no database to migrate, uvicorn with the application's options."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from fixflow_shared.web.cli import run_web_app


@dataclass
class _Settings:
    http_host: str = "127.0.0.1"
    http_port: int = 8123
    trusted_proxies: str = "10.0.0.1"


def _unreadable() -> _Settings:
    raise AssertionError("migrate must not read the settings (production secrets may be absent there)")


@pytest.mark.parametrize("command", ["migrate", "await-migrations"])
def test_a_web_application_has_no_database_to_migrate(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_web_app("webapp", _unreadable, [command])
    assert capsys.readouterr().out == f"webapp: {command}: no database (sessions live in Redis)\n"


def test_serve_builds_the_application_and_adds_its_own_options(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setitem(sys.modules, "webapp.bootstrap", types.SimpleNamespace(build=lambda s: ("app", s.http_port)))
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    run_web_app(
        "webapp",
        _Settings,
        ["serve"],
        serve_options=lambda s: {"proxy_headers": True, "forwarded_allow_ips": s.trusted_proxies},
    )
    assert served == {
        "app": ("app", 8123),
        "host": "127.0.0.1",
        "port": 8123,
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": 75,
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.1",
    }


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown command 'nope'"):
        run_web_app("webapp", _Settings, ["nope"])
