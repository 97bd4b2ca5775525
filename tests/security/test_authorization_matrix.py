"""The generated authorisation matrix: every route of the six OpenAPI documents x every role x the
caller's own object and another's, compared with the policy table (fixflow_shared.policy).

Expectations come from the table and from the route's path alone: a role the action does not
list gets 403; a customer or technician limited to its own objects gets 404 for another's object
named in the path (or the query's ticket), and never sees another's ids in any answer; everyone
else is let through (the answer may still be 409 or 422: authorisation passed). Write requests
carry a body no route accepts, so an allowed write is refused by validation and changes nothing."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authz_world import PARTNER_KEYS, PARTNER_SCOPES_OF, World

from fixflow_shared.access import ACTION_EXTENSION
from fixflow_shared.policy import POLICY, PUBLIC_OPERATIONS, Reach
from fixflow_shared.testing import auth_headers

OWNED = {
    "ticket_id",
    "customer_id",
    "asset_id",
    "job_id",
    "appointment_id",
    "work_order_id",
    "invoice_id",
    "quote_id",
    "survey_id",
    "technician_id",
    "request_id",
    "recipient_id",
    "attachment_id",
}
STAFF_ROLES = ("agent", "dispatcher", "manager", "quality", "admin")


@dataclass(frozen=True)
class Caller:
    name: str
    roles: frozenset[str]
    scopes: frozenset[str] = frozenset()

    def headers(self, world: World) -> dict[str, str]:
        if self.name.startswith("partner"):
            return {"X-API-Key": PARTNER_KEYS[self.name]}
        return auth_headers(
            world.tenant,
            ",".join(sorted(self.roles)),
            subject=f"matrix-{self.name}",
            customer_id=world.a.customer_id if "customer" in self.roles else None,
            technician_id=world.a.technician_id if "technician" in self.roles else None,
        )


CALLERS = [
    *(Caller(r, frozenset({r})) for r in STAFF_ROLES),
    Caller("customer", frozenset({"customer"})),
    Caller("technician", frozenset({"technician"})),
    # the portal's own token before sign-in: two actions, a 403 everywhere else
    Caller("portal", frozenset({"portal"})),
    *(Caller(k, frozenset({"partner"}), frozenset(PARTNER_SCOPES_OF[k])) for k in PARTNER_KEYS),
]


def value_of(param: str, side: Any, world: World, caller: Caller) -> str:
    if param == "recipient_id":
        return side.customer_id if "customer" in caller.roles else side.technician_id
    if param == "request_id":
        return side.parts_request_id
    if hasattr(side, param):
        return getattr(side, param)
    fixed = {
        "product_id": world.extra["product_id"],
        "revisit_id": world.revisit_id or "RV-none",
        "report_id": world.extra["report_id"],
        "alert_id": "QA-none",  # quality alerts come from insight's rules over weeks of events
        "message_id": "fixflow.none.dlq:0:0",  # no dead letter: admins are let through to a 404
        "receipt_number": "R-none",  # the world's invoices are unpaid: readers are let through to a 404
        "month": "2025-06",
        "name": "ticket.opened",
        "channel": "email",
        "locale": "en",
        "recipient": f"customer.a.{world.tenant}@example.com",
        "from": "2025-01-01T00:00:00+00:00",
        "to": "2025-02-01T00:00:00+00:00",
        "article_id": "KB-001",  # one of the knowledge base's defaults
        "job_kind": "repair",
        "kind": "photo",  # what a technician attaches (the body is no picture: refused after authorisation)
        # the board's period: the visits the world booked (a technician must see only its own)
        "start": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "end": (datetime.now(UTC) + timedelta(days=29)).isoformat(),
    }
    return fixed[param]


@dataclass
class Case:
    service: str
    method: str
    path: str
    action: str
    caller: Caller
    variant: str  # own | other | none
    expected: str  # allow | forbid (403) | hide (404, or an answer without the other's ids)
    status: int = 0
    verdict: str = ""


def plan(apps: dict[str, Any], world: World) -> tuple[list[tuple[Case, str, dict[str, str]]], list[str]]:
    cases, missing = [], []
    for service, app in apps.items():
        for path, ops in app.openapi()["paths"].items():
            for method, op in ops.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                if op["operationId"] in PUBLIC_OPERATIONS:
                    continue
                action = op.get(ACTION_EXTENSION)
                if action not in POLICY:
                    missing.append(f"{service} {method.upper()} {path} ({op['operationId']}): {action}")
                    continue
                params = [p for p in op.get("parameters", []) if p["in"] in ("path", "query")]
                path_params = [p["name"] for p in params if p["in"] == "path"]
                query = [p for p in params if p["in"] == "query" and p.get("required")]
                owned = any(p in OWNED for p in path_params) or any(p["name"] == "ticket_id" for p in query)
                for caller in CALLERS:
                    for variant in ("own", "other") if owned else ("none",):
                        side = world.b if variant == "other" else world.a
                        url = "/v1" + path.removeprefix("/v1")
                        for p in path_params:
                            url = url.replace("{" + p + "}", value_of(p, side, world, caller))
                        qs = {p["name"]: value_of(p["name"], side, world, caller) for p in query}
                        reach = POLICY[action].reach(caller.roles, caller.scopes)
                        if reach is None:
                            expected = "forbid"
                        elif reach is Reach.TENANT or variant != "other":
                            expected = "allow"
                        else:
                            expected = "hide"
                        cases.append((Case(service, method.upper(), path, action, caller, variant, expected), url, qs))
    return cases, missing


def judge(case: Case, r: httpx.Response, world: World) -> str:
    """'' when the answer is what the table says, else why not."""
    other_ids = world.b.ids if case.caller.roles & {"customer", "technician"} else set()
    leaked = [i for i in other_ids if i in r.text] if r.status_code < 400 else []
    if case.expected == "forbid":
        return "" if r.status_code == 403 else f"unexpected allow: {r.status_code}"
    if case.expected == "hide":
        if r.status_code == 404 or (r.status_code == 200 and not leaked):
            return ""
        return f"unexpected allow: {r.status_code}" + (f", shows {leaked[:2]}" if leaked else "")
    if r.status_code in (401, 403):
        return f"unexpected denial: {r.status_code} {r.text[:120]}"
    absent = (
        "{alert_id}" in case.path
        or "{message_id}" in case.path
        or "{receipt_number}" in case.path
        or ("{revisit_id}" in case.path and world.revisit_id is None)
    )
    if r.status_code == 404 and not absent:  # an object the world could not make is missing, not denied
        return f"unexpected denial: 404 {r.text[:120]}"
    if leaked:
        return f"unexpected allow: shows another's {leaked[:2]}"
    if r.status_code >= 500:
        return f"server error {r.status_code}"
    return ""


async def test_every_route_of_every_service_follows_the_policy_table(apps, clients, world):
    cases, missing = plan(apps, world)
    assert not missing, "routes without an action in the policy table:\n" + "\n".join(missing)
    cases.sort(key=lambda c: c[0].method != "GET")  # reads first: an allowed write may change state
    for case, url, qs in cases:
        headers = case.caller.headers(world)
        if case.method == "GET":
            r = await clients[case.service].get(url, params=qs, headers=headers)
        else:  # a body no route accepts: an allowed write is refused by validation, nothing changes
            r = await clients[case.service].request(case.method, url, params=qs, headers=headers, json=[])
        case.status, case.verdict = r.status_code, judge(case, r, world)
    wrong = [c for c, _, _ in cases if c.verdict]
    allows = [c for c in wrong if c.verdict.startswith("unexpected allow")]
    denials = [c for c in wrong if c.verdict.startswith("unexpected denial")]
    routes = {(c.service, c.method, c.path) for c, _, _ in cases}
    print(
        f"\nauthorisation matrix: {len(routes)} routes x {len(CALLERS)} callers x own/other = {len(cases)} cases; "
        f"{len(allows)} unexpected allows, {len(denials)} unexpected denials, {len(wrong) - len(allows) - len(denials)} other",
        file=sys.stderr,
    )
    report = "\n".join(
        f"{c.service} {c.method} {c.path} [{c.action}] as {c.caller.name} ({c.variant}): {c.verdict}" for c in wrong
    )
    assert not wrong, report
    assert len(routes) >= 95 and len(cases) > 1000


def test_every_action_of_the_table_is_used_by_a_route(apps):
    used = {
        op.get(ACTION_EXTENSION)
        for app in apps.values()
        for ops in app.openapi()["paths"].values()
        for op in ops.values()
        if isinstance(op, dict)
    }
    assert set(POLICY) - used == {"contacts.read"}  # contacts.read guards webhook payloads, not a route
    assert re.fullmatch(r"[a-z_.]+", "".join(POLICY))
