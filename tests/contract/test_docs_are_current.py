"""docs/api, docs/asyncapi and docs/events are generated from the code (scripts/export_docs.py);
this fails when a route, consumer or event contract changed without regenerating them."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from fixflow_shared.events import registry

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")
HINT = "regenerate: PYTHONHASHSEED=0 .venv/bin/python scripts/export_docs.py"


def built(name: str):  # type: ignore[no-untyped-def]
    config = importlib.import_module(f"{name}.config")
    settings_cls = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
    return importlib.import_module(f"{name}.bootstrap").build(
        settings_cls(database_url=f"postgresql+asyncpg://{name}:{name}@127.0.0.1:5432/{name}")
    )


@pytest.mark.parametrize("name", SERVICES)
def test_openapi_and_asyncapi_documents_are_current(name):
    runtime, app = built(name)
    committed = json.loads((ROOT / "docs/api" / f"{name}.openapi.json").read_text())
    assert app.openapi() == committed, f"docs/api/{name}.openapi.json is stale; {HINT}"
    spec = json.loads((ROOT / "docs/asyncapi" / f"{name}.asyncapi.json").read_text())
    current = runtime.asyncapi()
    assert set(current["channels"]) == set(spec["channels"]), f"docs/asyncapi/{name}.asyncapi.json is stale; {HINT}"
    assert set(current["components"]["messages"]) == set(spec["components"]["messages"]), HINT


def test_event_schemas_are_current():
    for type_, schema in registry.json_schemas().items():
        path = ROOT / "docs/events" / f"{type_}.json"
        assert path.exists() and json.loads(path.read_text()) == json.loads(json.dumps(schema)), (
            f"{path.name} is stale; {HINT}"
        )
