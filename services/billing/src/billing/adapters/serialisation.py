"""(De)serialisation of billing's domain objects to and from JSON columns."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from billing.domain.price_book import PartPrice, PriceBook
from billing.domain.pricing import Charge, Line, PartUsed, ServiceKind, WorkDone
from fixflow_shared.events.envelope import Envelope


def line_to_json(ln: Line) -> dict[str, Any]:
    return asdict(ln)


def line_from_json(d: dict[str, Any]) -> Line:
    return Line(**d)


def charge_to_json(c: Charge) -> dict[str, Any]:
    d = asdict(c)
    d["service_kind"] = c.service_kind.value
    d["lines"] = [line_to_json(ln) for ln in c.lines]
    return d


def charge_from_json(d: dict[str, Any]) -> Charge:
    return Charge(
        **{**d, "service_kind": ServiceKind(d["service_kind"]), "lines": tuple(line_from_json(x) for x in d["lines"])}
    )


def book_to_config(b: PriceBook) -> dict[str, Any]:
    d = asdict(b)
    for k in ("tenant_id", "version", "effective_from", "currency"):
        d.pop(k)
    d["parts"] = {k: asdict(v) for k, v in b.parts.items()}
    d["resolution_codes"] = {k: list(v) for k, v in b.resolution_codes.items()}
    return d


def book_from_row(r: Any) -> PriceBook:
    cfg = dict(r["config"])
    cfg["parts"] = {k: PartPrice(**v) for k, v in cfg.get("parts", {}).items()}
    cfg["resolution_codes"] = {k: tuple(v) for k, v in cfg.get("resolution_codes", {}).items()}
    return PriceBook(
        tenant_id=r["tenant_id"],
        version=r["version"],
        effective_from=r["effective_from"],
        currency=r["currency"],
        **cfg,
    )


def work_to_json(w: WorkDone) -> dict[str, Any]:
    d = asdict(w)
    d["parts"] = [asdict(p) for p in w.parts]
    return d


def work_from_json(d: dict[str, Any]) -> WorkDone:
    return WorkDone(**{**d, "parts": tuple(PartUsed(**p) for p in d.get("parts", ()))})


def envelope_to_json(env: Envelope) -> dict[str, Any]:
    return {"headers": {k: v.decode() for k, v in env.headers()}, "data": env.data}


def envelope_from_json(d: dict[str, Any]) -> Envelope:
    import orjson

    return Envelope.from_kafka(d["headers"], orjson.dumps(d["data"]))
