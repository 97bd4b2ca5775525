"""Export every event contract as JSON Schema: `python -m fixflow_shared.events.export docs/events`.

The exported files are the compatibility baseline: tests/contract/test_event_schemas.py fails when
a change to a contract would break a consumer of an exported version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fixflow_shared.events import registry


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for type_, schema in registry.json_schemas().items():
        path = directory / f"{type_}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in export(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/events")):
        print(p)
