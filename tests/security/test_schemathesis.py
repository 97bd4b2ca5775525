"""schemathesis over the six services' OpenAPI documents: generated requests (fixed seed, bounded
examples per operation) give no server error and no answer outside the documented schema.

The cases are generated first (hypothesis, derandomized) and then sent to the in-process apps with
the staff token of a tenant of their own, so every route runs its handler rather than a 403."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fixflow_shared.testing import auth_headers

EXAMPLES = int(os.environ.get("FIXFLOW_SCHEMATHESIS_EXAMPLES", "10"))
SEED = 20251130
STAFF = auth_headers("fuzz", "agent,dispatcher,manager,admin", subject="schemathesis")


def cases_of(operation: Any) -> list[Any]:
    found: list[Any] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


async def test_generated_requests_give_no_server_error_and_match_the_schema(apps, clients):
    started = time.monotonic()
    failures: list[str] = []
    sent = 0
    statuses: Counter[int] = Counter()
    per_service: dict[str, Counter[str]] = {name: Counter() for name in apps}
    for name, app in apps.items():
        schema = schemathesis.openapi.from_dict(app.openapi())
        for result in schema.get_all_operations():
            operation = result.ok()
            per_service[name]["operations"] += 1
            for case in cases_of(operation):
                kw = case.as_transport_kwargs(base_url=f"http://{name}", headers=STAFF)
                r = await clients[name].request(
                    kw["method"],
                    kw["url"],
                    headers={k: str(v) for k, v in (kw.get("headers") or {}).items()},
                    params=kw.get("params"),
                    json=kw.get("json"),
                    content=kw.get("data"),
                )
                sent += 1
                per_service[name]["examples"] += 1
                statuses[r.status_code // 100 * 100] += 1
                try:
                    case.validate_response(r, checks=[not_a_server_error, response_schema_conformance])
                except (Exception, BaseExceptionGroup) as exc:  # every failed check of the case
                    per_service[name]["failures"] += 1
                    failures.append(f"{name} {kw['method']} {kw['url']} -> {r.status_code}: {str(exc)[:400]}")
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {sent} requests ({dict(sorted(statuses.items()))} by status class), "
        f"{len(failures)} failures, {elapsed:.0f} s",
        file=sys.stderr,
    )
    for name, n in per_service.items():
        print(
            f"  {name}: {n['operations']} operations, {n['examples']} examples, {n['failures']} failures",
            file=sys.stderr,
        )
    assert not failures, "\n".join(failures[:30])
    assert sent > 500
