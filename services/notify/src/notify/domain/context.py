"""Template variables of an event: its payload, flattened and formatted for people.

`window.start` becomes `window_start` (local time), `total_minor` also gives `total` ("120.00"),
times are shown in the tenant's zone. The same derivation gives the allowed variable names of a
template (checked at save time) and the sample context of a preview.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

EXTRA_VARIABLES = frozenset({"recipient_name", "tenant_id", "event_type", "portal_link"})


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _is_model(a: Any) -> bool:
    return isinstance(a, type) and issubclass(a, BaseModel)


def allowed_variables(model: type[BaseModel]) -> frozenset[str]:
    names: set[str] = set(EXTRA_VARIABLES)
    for name, f in model.model_fields.items():
        names.add(name)
        ann = _unwrap(f.annotation)
        if _is_model(ann):
            names.update(f"{name}_{sub}" for sub in ann.model_fields)
        if name.endswith("_minor"):
            names.add(name[: -len("_minor")])
    return frozenset(names)


def sample_context(model: type[BaseModel]) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        ann = _unwrap(f.annotation)
        if _is_model(ann):
            ctx[name] = {sub: f"[{name}.{sub}]" for sub in ann.model_fields}
            ctx.update({f"{name}_{sub}": f"[{name}_{sub}]" for sub in ann.model_fields})
        elif typing.get_origin(ann) is list and typing.get_args(ann) and _is_model(typing.get_args(ann)[0]):
            inner = typing.get_args(ann)[0]
            ctx[name] = [{sub: f"[{sub}]" for sub in inner.model_fields}]
        elif typing.get_origin(ann) in (list, dict):
            ctx[name] = [] if typing.get_origin(ann) is list else {}
        else:
            ctx[name] = f"[{name}]"
        if name.endswith("_minor"):
            ctx[name[: -len("_minor")]] = "0.00"
    ctx.update({"recipient_name": "[recipient_name]", "tenant_id": "[tenant_id]", "event_type": "[event_type]"})
    ctx["portal_link"] = "https://portal.example/l/[signed]"
    return ctx


def _fmt_time(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return value


def build_context(
    data: Mapping[str, Any],
    *,
    event_type: str,
    tenant_id: str,
    allowed: frozenset[str] = frozenset(),
    tz: str = "Asia/Shanghai",
    recipient_name: str = "",
    portal_link: str = "",
) -> dict[str, Any]:
    """Every allowed name is present (empty when the event left it out), so strict rendering only
    fails on names no event of this type can have."""
    zone = ZoneInfo(tz)
    ctx: dict[str, Any] = dict.fromkeys(allowed, "")
    for k, v in data.items():
        if isinstance(v, dict):
            ctx[k] = {sk: _fmt_time(sv, zone) for sk, sv in v.items()}
            ctx.update({f"{k}_{sk}": _fmt_time(sv, zone) for sk, sv in v.items()})
        else:
            ctx[k] = _fmt_time(v, zone)
        if k.endswith("_minor") and isinstance(v, int):
            ctx[k[: -len("_minor")]] = f"{v / 100:.2f}"
    ctx.update(
        {"recipient_name": recipient_name, "tenant_id": tenant_id, "event_type": event_type, "portal_link": portal_link}
    )
    return ctx
