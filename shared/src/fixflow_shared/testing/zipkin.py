"""The local trace viewer for tests: a Zipkin of the session's own (deploy/local/infra.sh
zipkin-start, in-memory storage, a free port), and a reader of its HTTP API (api/v2)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fixflow_shared.testing.infra import free_port


@dataclass
class ZipkinServer:
    root: Path
    port: int = field(default_factory=free_port)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fixflow-zipkin-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans_endpoint(self) -> str:
        """Where services send spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT)."""
        return self.url + "/api/v2/spans"

    def _script(self, *args: str) -> None:
        subprocess.run([str(self.root / "deploy/local/infra.sh"), *args], check=True, timeout=600)

    def start(self) -> None:
        self._script("zipkin-start", str(self.port), str(self.dir))

    def stop(self) -> None:
        self._script("zipkin-stop", str(self.dir))
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- the API an operator's browser uses ---------------------------------------------------------
    def traces(self, lookback_s: float = 3600, limit: int = 10_000, **query: str) -> list[list[dict[str, Any]]]:
        """Traces (each a list of spans) of the last `lookback_s` seconds matching the query
        (serviceName, spanName, annotationQuery, ...)."""
        params = {"endTs": str(int(time.time() * 1000)), "lookback": str(int(lookback_s * 1000)), "limit": str(limit)}
        r = httpx.get(self.url + "/api/v2/traces", params={**params, **query}, timeout=30)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v2/trace/{trace_id}", timeout=30)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def services(self) -> list[str]:
        r = httpx.get(self.url + "/api/v2/services", timeout=10)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]
