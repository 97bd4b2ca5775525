"""Write the API documents every service serves into docs/: OpenAPI (docs/api/<service>.openapi.json),
AsyncAPI (docs/asyncapi/<service>.asyncapi.json) and the event JSON Schemas (docs/events/).

    .venv/bin/python scripts/export_docs.py
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from fixflow_shared.events.export import export

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")


def main() -> None:
    for d in ("api", "asyncapi"):
        (ROOT / "docs" / d).mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        config = importlib.import_module(f"{name}.config")
        settings_cls = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
        # Building the app opens no connection: engine, Redis and broker connect on start.
        runtime, app = importlib.import_module(f"{name}.bootstrap").build(
            settings_cls(database_url=f"postgresql+asyncpg://{name}:{name}@127.0.0.1:5432/{name}")
        )
        (ROOT / "docs/api" / f"{name}.openapi.json").write_text(
            json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
        (ROOT / "docs/asyncapi" / f"{name}.asyncapi.json").write_text(
            json.dumps(runtime.asyncapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
        print(f"docs/api/{name}.openapi.json docs/asyncapi/{name}.asyncapi.json")
    print(f"{len(export(ROOT / 'docs' / 'events'))} event schemas in docs/events")


if __name__ == "__main__":
    main()
