"""The operations endpoints of a web application: /healthz (the process answers), /readyz (its
Redis, where the sessions live, answers: 503 otherwise) and /metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fixflow_shared.metrics import metrics_endpoint


def install_ops(app: FastAPI, service: str, reported: Callable[[Request], dict[str, str]] | None = None) -> None:
    """`reported` adds checks readiness shows but does not wait for (the console's live updates:
    its pages work without the broker). The application's Redis is `app.state.redis`."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await request.app.state.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        if reported is not None:
            checks.update(reported(request))
        ok = checks["redis"] == "ok"
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
