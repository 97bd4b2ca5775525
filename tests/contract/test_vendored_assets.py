"""Vendored browser assets are exactly the files fetched from the registry (checksums committed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts/vendor_assets.py")
assert _spec and _spec.loader
vendor_assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vendor_assets)


@pytest.mark.parametrize("directory", vendor_assets.VENDOR_DIRS, ids=lambda d: d.parent.name + "/" + d.name)
def test_vendored_files_match_their_checksums(directory: Path):
    assert vendor_assets.check(directory) == []


@pytest.mark.parametrize("directory", vendor_assets.VENDOR_DIRS, ids=lambda d: d.parent.name + "/" + d.name)
def test_every_package_is_pinned_with_its_registry_integrity(directory: Path):
    for p in json.loads((directory / "vendor.json").read_text())["packages"]:
        assert p["version"][0].isdigit() and not any(c in p["version"] for c in "^~*<> "), p
        assert p["integrity"].startswith("sha512-"), p
        assert p["license"], p


def test_a_changed_file_is_caught(tmp_path: Path):
    src = vendor_assets.VENDOR_DIRS[0]
    for f in ("vendor.json", "SHA256SUMS", "htmx.min.js"):
        (tmp_path / f).write_bytes((src / f).read_bytes())
    (tmp_path / "htmx.min.js").write_bytes(b"tampered")
    problems = vendor_assets.check(tmp_path)
    assert any("htmx.min.js: checksum differs" in p for p in problems)
    assert any("missing" in p for p in problems)
