"""Calls to the services' public HTTP APIs with the signed-in user's token.

A service's refusal (RFC 9457 problem+json) becomes a ServiceProblem the pages show in place; a
service that cannot be reached becomes one too (503), so a page never fails with a 500 because a
neighbour is down. The W3C trace context goes along, so a click in a web application joins the
trace of the requests it causes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from opentelemetry import propagate

from fixflow_shared.logs import get_logger

log = get_logger(__name__)


class ServiceProblem(Exception):
    """A service answered with a problem (or could not be reached)."""

    def __init__(self, service: str, status: int, problem: Mapping[str, Any]) -> None:
        self.service = service
        self.status = status
        self.problem = dict(problem)
        super().__init__(f"{service}: {status} {self.title}: {self.detail}")

    @property
    def title(self) -> str:
        return str(self.problem.get("title") or "Error")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or "")

    def field_errors(self) -> dict[str, str]:
        """Validation messages by field name (the last element of each error's location)."""
        out: dict[str, str] = {}
        for e in self.problem.get("errors") or []:
            loc = e.get("location") or e.get("loc") or []
            if loc and loc[0] in ("body", "query", "path"):
                name = str(loc[1]) if len(loc) > 1 else str(loc[-1])
                out.setdefault(name, str(e.get("message") or e.get("msg") or ""))
        return out


class ServiceClient:
    """One service's API; `token` is the signed-in user's bearer token."""

    def __init__(self, name: str, base_url: str, http: httpx.AsyncClient) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.http = http

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        raw: bool = False,
        content: bytes | None = None,
        content_type: str | None = None,
        accept: str = "application/json, application/problem+json",
    ) -> Any:
        """`content` (with its `content_type`) sends bytes instead of JSON, e.g. a photo; `raw` returns
        the response itself (a PDF, an image)."""
        headers = {"Accept": accept}
        if token:  # None: a public endpoint (a survey's answer link)
            headers["Authorization"] = f"Bearer {token}"
        if method in ("POST", "PUT", "PATCH"):
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if content is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
        propagate.inject(headers)
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")} if params else None
        try:
            r = await self.http.request(
                method, self.base_url + path, json=json, content=content, params=clean, headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("service unreachable", service=self.name, path=path, error=type(exc).__name__)
            raise ServiceProblem(
                self.name,
                503,
                {"title": "Service unavailable", "detail": f"{self.name} did not answer ({type(exc).__name__})"},
            ) from exc
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"title": r.reason_phrase or "Error", "detail": r.text[:300]}
            if not isinstance(body, dict):
                body = {"title": "Error", "detail": str(body)[:300]}
            raise ServiceProblem(self.name, r.status_code, body)
        if raw:
            return r
        return orjson.loads(r.content) if r.content else None

    async def get(self, path: str, *, token: str | None, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", path, token=token, params=params)

    async def post(self, path: str, body: Any, *, token: str | None, idempotency_key: str | None = None) -> Any:
        return await self.request("POST", path, token=token, json=body, idempotency_key=idempotency_key)

    async def put(self, path: str, body: Any, *, token: str, idempotency_key: str | None = None) -> Any:
        return await self.request("PUT", path, token=token, json=body, idempotency_key=idempotency_key)

    async def get_or_none(self, path: str, *, token: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET that answers None for a 404 (an object another service has not learned of yet)."""
        try:
            return await self.get(path, token=token, params=params)
        except ServiceProblem as exc:
            if exc.status == 404:
                return None
            raise


class Services:
    """The services a web application may call, sharing one connection pool (insight only where
    the application names it: the console's administrators read dead letters there)."""

    def __init__(self, urls: Mapping[str, str], *, timeout_s: float) -> None:
        self.http = httpx.AsyncClient(
            timeout=timeout_s, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)
        )
        self.intake = ServiceClient("intake", urls["intake"], self.http)
        self.dispatch = ServiceClient("dispatch", urls["dispatch"], self.http)
        self.billing = ServiceClient("billing", urls["billing"], self.http)
        self.survey = ServiceClient("survey", urls["survey"], self.http)
        self.notify = ServiceClient("notify", urls["notify"], self.http)
        self.insight = ServiceClient("insight", urls.get("insight", ""), self.http)

    def all(self) -> list[ServiceClient]:
        return [
            c for c in (self.intake, self.dispatch, self.billing, self.survey, self.notify, self.insight) if c.base_url
        ]

    def by_name(self, name: str) -> ServiceClient:
        return {c.name: c for c in self.all()}[name]

    async def close(self) -> None:
        await self.http.aclose()
