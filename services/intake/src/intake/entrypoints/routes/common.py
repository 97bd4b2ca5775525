"""Shared bits of intake's HTTP layer: dependencies, roles, validators, masking."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from fastapi import Depends, Request
from pydantic import AfterValidator

from fixflow_shared.auth import Principal, require_roles
from fixflow_shared.runtime import ServiceRuntime
from intake.service_layer.deps import Deps


async def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def _deps(request: Request) -> Deps:
    return request.app.state.intake_deps  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
DepsDep = Annotated[Deps, Depends(_deps)]
Writer = Annotated[Principal, Depends(require_roles("agent", "partner", "customer", "manager"))]
Agent = Annotated[Principal, Depends(require_roles("agent", "manager"))]
Manager = Annotated[Principal, Depends(require_roles("manager"))]
Reader = Annotated[Principal, Depends(require_roles("agent", "dispatcher", "manager", "partner", "customer"))]


def _phone(value: str) -> str:
    try:
        n = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(n):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, AfterValidator(_phone)]


def mask_phone(p: str | None) -> str | None:
    return None if not p else p[:4] + "*" * max(0, len(p) - 8) + p[-4:]


def mask_email(e: str | None) -> str | None:
    if not e or "@" not in e:
        return e
    user, domain = e.split("@", 1)
    return user[:1] + "***@" + domain
