"""Vendored browser assets: fetched once from the npm registry, committed, verified by checksum.

Each vendor directory holds `vendor.json` (package, exact version, the registry's sha512 integrity
of the tarball, and which files of the tarball are kept under which name) and `SHA256SUMS` (the
kept files, `sha256sum -c` format). Nothing is fetched at run time or at test time.

    .venv/bin/python scripts/vendor_assets.py --check      verify every file against SHA256SUMS (offline)
    .venv/bin/python scripts/vendor_assets.py --fetch      re-fetch with `npm pack`, check the tarball's
                                                           integrity, rewrite the files and SHA256SUMS

To upgrade a package: change its version and integrity (`npm view <pkg>@<version> dist.integrity`)
in vendor.json, then --fetch and commit the result.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIRS = (
    ROOT / "services/console/src/console/static/vendor",
    ROOT / "shared/src/fixflow_shared/static/swagger-ui",
)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="fetch from the npm registry and rewrite the files")
    parser.add_argument("--check", action="store_true", help="verify the committed files (default)")
    args = parser.parse_args()
    problems = []
    for d in VENDOR_DIRS:
        if args.fetch:
            fetch(d)
        problems += check(d)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("vendored assets match their checksums")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
