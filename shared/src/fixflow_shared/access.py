"""Authorisation at every route: `Authorize("tickets.read", owner=ticket_owner)` names the route's
action in the policy table (policy.py) and, for callers limited to their own objects, how to find
the owner of the object in the path.

    TicketsRead = Annotated[Access, Depends(Authorize("tickets.read", owner=ticket_owner))]

    @router.get("/{ticket_id}")
    async def read_ticket(ticket_id: str, principal: TicketsRead, ...): ...

A role the action does not list answers 403. A customer or technician reaching only its own
objects gets 404 for an object that is not theirs (or does not exist), before the route runs; for
lists and creations the route narrows itself with `principal.customer_scope` /
`principal.technician_scope` (None = the whole tenant).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import Table, select

from fixflow_shared.auth import CurrentPrincipal, Principal
from fixflow_shared.errors import Forbidden, NotFound
from fixflow_shared.policy import POLICY, PUBLIC_OPERATIONS, Reach, rule_for

ACTION_EXTENSION = "x-fixflow-action"


@dataclass(frozen=True)
class Owner:
    """Who an object belongs to: its customer, and the technicians it is assigned to."""

    customer_id: str | None = None
    technician_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, customer_id: str | None = None, technician_ids: Iterable[str | None] = ()) -> Owner:
        return cls(customer_id, frozenset(t for t in technician_ids if t))


OwnerLookup = Callable[[Request, Principal], Awaitable[Owner | None]]


@dataclass(frozen=True)
class Access:
    """The authenticated caller, allowed to perform `action`, and how far it reaches."""

    principal: Principal
    action: str
    reach: Reach

    # The principal's attributes, so routes keep reading `principal.tenant`, `principal.subject`.
    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def roles(self) -> frozenset[str]:
        return self.principal.roles

    def has_any(self, *roles: str) -> bool:
        return self.principal.has_any(*roles)

    @property
    def customer_scope(self) -> str | None:
        """The customer whose objects alone this caller may see; None = the whole tenant."""
        return self.principal.customer_id if self.reach is Reach.CUSTOMER else None

    @property
    def technician_scope(self) -> str | None:
        """The technician whose objects alone this caller may see; None = the whole tenant."""
        return self.principal.technician_id if self.reach is Reach.TECHNICIAN else None

    @property
    def tenant_wide(self) -> bool:
        return self.reach is Reach.TENANT

    def admits(self, owner: Owner | None) -> bool:
        if self.reach is Reach.TENANT:
            return True
        if owner is None:
            return False
        if self.reach is Reach.CUSTOMER:
            return owner.customer_id is not None and owner.customer_id == self.principal.customer_id
        return self.principal.technician_id in owner.technician_ids

    def require(self, owner: Owner | None, what: str, ident: object) -> None:
        """404 unless the object is this caller's (or the caller reaches the whole tenant)."""
        if not self.admits(owner):
            raise NotFound(what, ident)


class Authorize:
    """Dependency: the caller may perform `action` (policy table), on this object if it is limited
    to its own (`owner` finds the owner of the object named in the path)."""

    def __init__(self, action: str, *, owner: OwnerLookup | None = None, what: str | None = None) -> None:
        rule_for(action)  # an action missing from the table fails at import, not at the first request
        self.action = action
        self.owner = owner
        self.what = what or action.split(".")[0].rstrip("s").replace("_", " ")

    async def __call__(self, request: Request, principal: CurrentPrincipal) -> Access:
        access = await self.check(request, principal)
        request.state.access = access
        request.state.access_params = dict(request.path_params)  # the object, for the audit log
        return access

    async def check(self, request: Request, principal: Principal) -> Access:
        reach = POLICY[self.action].reach(principal.roles, principal.scopes)
        if reach is None:
            raise Forbidden(f"{self.action} is not allowed for your role")
        access = Access(principal=principal, action=self.action, reach=reach)
        if reach is not Reach.TENANT and self.owner is not None:
            owner = await self.owner(request, principal)
            if not access.admits(owner):
                ident = next(iter(request.path_params.values()), "") if request.path_params else ""
                raise NotFound(self.what, ident)
        return access


# --- owner lookups -------------------------------------------------------------------------------------


class RowOwner:
    """The owner of the row of `table` whose `key` is the path parameter `param` (in the caller's
    tenant); `find` looks up an id from elsewhere (a body's asset id)."""

    def __init__(
        self,
        table: Table,
        *,
        param: str,
        key: str = "id",
        customer: str | None = "customer_id",
        technician: str | None = None,
    ) -> None:
        self.table, self.param, self.key, self.customer, self.technician = table, param, key, customer, technician

    async def __call__(self, request: Request, principal: Principal) -> Owner | None:
        return await self.find(request.app.state.runtime, principal.tenant, request.path_params[self.param])

    async def find(self, runtime: Any, tenant: str, ident: str) -> Owner | None:
        t = self.table
        cols = [t.c[c] for c in (self.customer, self.technician) if c]
        stmt = select(*cols).where(t.c.tenant_id == tenant, t.c[self.key] == ident)
        async with runtime.uow() as uow:
            await uow.scope_to_tenant(tenant)
            row = (await uow.session.execute(stmt)).first()
        if row is None:
            return None
        m = row._mapping
        return Owner.of(m[self.customer] if self.customer else None, [m[self.technician]] if self.technician else ())


row_owner = RowOwner


def path_owner(param: str, *, customer: bool = False, technician: bool = False) -> OwnerLookup:
    """The path itself names the owner (a customer's credit, a technician's own record or feed)."""

    async def lookup(request: Request, _: Principal) -> Owner | None:
        value = request.path_params[param]
        return Owner.of(value if customer else None, [value] if technician else ())

    return lookup


# --- wiring: every route names its action --------------------------------------------------------


def authorize_of(route: APIRoute) -> Authorize | None:
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Authorize):
            return dep.call
        stack.extend(dep.dependencies)
    return None


@dataclass(frozen=True)
class RouteAction:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    authorize: Authorize

    def path_params(self, path: str) -> dict[str, str] | None:
        m = self.pattern.match(path)
        return m.groupdict() if m else None


def _pattern(path: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}", path):
        out += re.escape(path[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
    return re.compile("^" + out + re.escape(path[pos:]) + "$")


def register_actions(app: FastAPI, routes: Iterable[tuple[str, APIRoute]], required: bool = True) -> None:
    """Name each route's action in OpenAPI (x-fixflow-action) and keep (method, path) -> Authorize
    for the Idempotency-Key replay check. A route that names none (and is not public) fails here."""
    table: list[RouteAction] = []
    missing = []
    for prefix, route in routes:
        authorize = authorize_of(route)
        if authorize is None:
            if route.name not in PUBLIC_OPERATIONS:
                missing.append(f"{sorted(route.methods or ())} {prefix}{route.path} ({route.name})")
            continue
        route.openapi_extra = {**(route.openapi_extra or {}), ACTION_EXTENSION: authorize.action}
        table.append(RouteAction(frozenset(route.methods or ()), _pattern(prefix + route.path), authorize))
    if missing and required:
        raise LookupError("routes without an action in the policy table: " + "; ".join(missing))
    app.state.route_actions = table


def action_for(app: Any, method: str, path: str) -> tuple[Authorize, Mapping[str, str]] | None:
    for ra in getattr(app.state, "route_actions", ()):
        if method in ra.methods:
            params = ra.path_params(path)
            if params is not None:
                return ra.authorize, params
    return None
