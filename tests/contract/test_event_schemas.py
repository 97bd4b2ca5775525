"""Event contracts stay backward compatible within a major version.

docs/events/*.json are the published schemas. For each, the current model must still accept what
producers of that schema send and still give consumers every field they may rely on: no field
removed, no field's type changed, no new required field. Breaking changes need a new `.vN+1` type.
An additive change raises the contract's minor version (`@event(..., minor=N)`, exported as
`x-version`), so consumers and partners can tell which fields a schema has.
Refresh the baseline after additive changes: python -m fixflow_shared.events.export docs/events
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixflow_shared.events import registry

BASELINE = Path(__file__).resolve().parents[2] / "docs" / "events"
published = sorted(BASELINE.glob("*.json"))


def _shape(schema: dict, prop: dict) -> object:
    """A comparable description of a property's type (resolving local $refs one level)."""
    if "$ref" in prop:
        prop = schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], prop)
    if "anyOf" in prop:
        return sorted(json.dumps(_shape(schema, p), sort_keys=True) for p in prop["anyOf"])
    return {k: prop[k] for k in ("type", "enum", "const", "format") if k in prop} or prop.get(
        "properties", {}
    ).keys().__repr__()


def test_baseline_exists():
    assert published, "docs/events holds the published schemas"


@pytest.mark.parametrize("path", published, ids=lambda p: p.stem)
def test_published_contract_is_still_honoured(path):
    old = json.loads(path.read_text())
    type_ = path.stem
    assert type_ in registry, f"{type_} was published; keep it until consumers move to a new major version"
    new = registry.json_schemas()[type_]
    assert new["x-topic"] == old["x-topic"], "an event type does not change topic"
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    removed = set(old_props) - set(new_props)
    assert not removed, f"{type_}: fields removed {removed}"
    for name, prop in old_props.items():
        assert _shape(new, new_props[name]) == _shape(old, prop), f"{type_}.{name} changed type"
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    assert not newly_required, f"{type_}: new required fields {newly_required} break old producers"


def _fields(schema: dict) -> dict[str, object]:
    """Every property (also of nested models) with its shape: what a minor version is about."""
    out: dict[str, object] = {n: _shape(schema, p) for n, p in schema.get("properties", {}).items()}
    for name, d in schema.get("$defs", {}).items():
        out.update({f"{name}.{n}": _shape(schema, p) for n, p in d.get("properties", {}).items()})
    return out


def _version(schema: dict, type_: str) -> tuple[int, int]:
    major, minor = schema.get("x-version", f"{type_.rsplit('.v', 1)[1]}.0").split(".")
    return int(major), int(minor)


@pytest.mark.parametrize("path", published, ids=lambda p: p.stem)
def test_a_changed_schema_has_a_new_minor_version(path):
    old = json.loads(path.read_text())
    type_ = path.stem
    if type_ not in registry:
        return
    new = registry.json_schemas()[type_]
    major = int(type_.rsplit(".v", 1)[1])
    assert _version(new, type_)[0] == major, f"{type_}: x-version keeps the major of the type name"
    if _fields(new) != _fields(old):
        assert _version(new, type_) > _version(old, type_), (
            f"{type_} changed ({sorted(set(_fields(new)) ^ set(_fields(old)))}): raise its minor version "
            "(@event(..., minor=N+1)), then export the baseline"
        )


def test_every_contract_is_published():
    missing = set(registry.types()) - {p.stem for p in published}
    assert not missing, (
        f"export the new contracts: python -m fixflow_shared.events.export docs/events ({sorted(missing)})"
    )
