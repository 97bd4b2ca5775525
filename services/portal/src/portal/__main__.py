"""`python -m portal [serve|migrate|await-migrations|healthcheck]`, the commands of every service
image (fixflow_shared/cli.py). The portal owns no database: migrate and await-migrations succeed
at once, so `make migrate` and the image's one-shot steps treat it like the others."""

from __future__ import annotations

import sys

from portal.config import PortalSettings


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "serve"
    if cmd in ("migrate", "await-migrations"):
        print(f"portal: {cmd}: no database (sessions live in Redis)")
        return
    settings = PortalSettings()
    if cmd == "healthcheck":
        from fixflow_shared.cli import healthcheck

        healthcheck(settings.http_port)
    elif cmd == "serve":
        import uvicorn

        from portal.bootstrap import build

        uvicorn.run(
            build(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=75,
            # The client's address limits sign-in codes and is recorded with a consent: believe
            # X-Forwarded-For from the ingress only.
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
        )
    else:
        sys.exit(f"unknown command {cmd!r}: use serve, migrate, await-migrations or healthcheck")


if __name__ == "__main__":
    main()
