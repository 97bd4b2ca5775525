"""No production module over 600 lines: a module that grows past it is split by feature."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 600


def production_modules() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "services/*/src/*.py", "shared/src/*.py"], cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout.strip():  # not a git checkout: walk the tree instead
        return sorted(
            str(p.relative_to(ROOT))
            for base in (ROOT / "services", ROOT / "shared" / "src")
            for p in base.rglob("*.py")
            if "/src/" in str(p) and "/migrations/" not in str(p)
        )
    return [f for f in out.stdout.split() if "/migrations/" not in f]


def test_no_production_module_is_over_600_lines():
    modules = production_modules()
    assert len(modules) > 50
    lengths = {f: len((ROOT / f).read_text().splitlines()) for f in modules}
    too_long = {f: n for f, n in lengths.items() if n > LIMIT}
    assert not too_long, f"split these by feature: {too_long}"
