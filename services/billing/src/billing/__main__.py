"""`python -m billing [serve|migrate]`"""

from __future__ import annotations

import sys
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[2]


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "serve"
    from billing.config import BillingSettings

    settings = BillingSettings()  # type: ignore[call-arg]
    if cmd == "migrate":
        from fixflow_shared.migrations import upgrade

        upgrade(SERVICE_DIR, settings.database_url)
    elif cmd == "serve":
        import uvicorn

        from billing.bootstrap import build

        _, app = build(settings)
        uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)
    else:
        sys.exit(f"unknown command {cmd!r}: use serve or migrate")


if __name__ == "__main__":
    main()
