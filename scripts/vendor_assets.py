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
import sys
from pathlib import Path

from fixflow_shared.web.vendor import check, fetch

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIRS = (
    ROOT / "shared/src/fixflow_shared/static/htmx",
    ROOT / "shared/src/fixflow_shared/static/swagger-ui",
    ROOT / "services/console/src/console/static/vendor",
    ROOT / "services/portal/src/portal/static/vendor",
)
__all__ = ["VENDOR_DIRS", "check", "fetch"]


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
