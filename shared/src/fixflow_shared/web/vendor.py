"""Vendored browser assets: fetched once from the npm registry, committed, verified by checksum.

Each vendor directory holds `vendor.json` (package, exact version, the registry's sha512 integrity
of the tarball, and which files of the tarball are kept under which name) and `SHA256SUMS` (the
kept files, `sha256sum -c` format). Nothing is fetched at run time or at test time: `check` reads
the committed files only; `fetch` (scripts/vendor_assets.py --fetch) runs `npm pack`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sums(directory: Path) -> dict[str, str]:
    sums = {}
    for line in (directory / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def check(directory: Path) -> list[str]:
    """Problems found: a listed file missing or changed, a kept file not listed."""
    lock = json.loads((directory / "vendor.json").read_text())
    kept = {dest for p in lock["packages"] for dest in p["files"].values()}
    sums = read_sums(directory)
    problems = [f"{directory.name}/{n}: not in SHA256SUMS" for n in sorted(kept - set(sums))]
    for name, digest in sums.items():
        f = directory / name
        if not f.exists():
            problems.append(f"{directory.name}/{name}: missing")
        elif sha256(f) != digest:
            problems.append(f"{directory.name}/{name}: checksum differs")
    return problems


def fetch(directory: Path) -> None:
    lock = json.loads((directory / "vendor.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for p in lock["packages"]:
            spec = f"{p['name']}@{p['version']}"
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", tmp], check=True, capture_output=True, text=True
            )
            tarball = Path(tmp) / json.loads(out.stdout)[0]["filename"]
            algo, _, expected = p["integrity"].partition("-")
            got = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
            if got != expected:
                sys.exit(f"{spec}: tarball integrity {algo}-{got} differs from vendor.json")
            with tarfile.open(tarball) as tar:
                for member, dest in p["files"].items():
                    data = tar.extractfile(member)
                    if data is None:
                        sys.exit(f"{spec}: no file {member}")
                    (directory / dest).write_bytes(data.read())
            print(f"fetched {spec} ({len(p['files'])} files)")
    names = sorted(dest for p in lock["packages"] for dest in p["files"].values())
    (directory / "SHA256SUMS").write_text("".join(f"{sha256(directory / n)}  {n}\n" for n in names))
