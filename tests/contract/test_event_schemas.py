"""Event contracts stay backward compatible within a major version.

docs/events/*.json are the published schemas. For each, the current model must still accept what
producers of that schema send and still give consumers every field they may rely on: no field
removed, no field's type changed, no new required field. Breaking changes need a new `.vN+1` type.
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


def test_every_contract_is_published():
    missing = set(registry.types()) - {p.stem for p in published}
    assert not missing, (
        f"export the new contracts: python -m fixflow_shared.events.export docs/events ({sorted(missing)})"
    )
