"""`python -m portal [serve|migrate|await-migrations|healthcheck]`: the commands of every web
application's image (fixflow_shared.web.cli). The portal owns no database."""

from __future__ import annotations

from typing import Any

from fixflow_shared.web.cli import run_web_app
from portal.config import PortalSettings


def _behind_the_ingress(settings: PortalSettings) -> dict[str, Any]:
    # The client's address limits sign-in codes and is recorded with a consent: believe
    # X-Forwarded-For from the ingress only.
    return {"proxy_headers": True, "forwarded_allow_ips": settings.trusted_proxies}


def main(argv: list[str] | None = None) -> None:
    run_web_app("portal", PortalSettings, argv, serve_options=_behind_the_ingress)


if __name__ == "__main__":
    main()
