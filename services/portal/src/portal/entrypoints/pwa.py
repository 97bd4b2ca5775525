"""What makes the technician's app installable and usable offline: the web app manifest and the
service worker, both under /tech so the worker's scope is the app (customers' pages are never
cached on a device)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from portal.entrypoints.web import locale_of
from portal.i18n import translator

router = APIRouter(prefix="/tech", include_in_schema=False)
STATIC = Path(__file__).resolve().parents[1] / "static"


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    _ = translator(locale_of(request))
    return JSONResponse(
        {
            "name": _("Fixflow technician"),
            "short_name": _("Fixflow"),
            "start_url": "/tech",
            "scope": "/tech",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0f5b8c",
            "icons": [
                {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
            ],
        },
        media_type="application/manifest+json",
    )


@router.get("/sw.js")
async def service_worker() -> Response:
    """Served from /tech so its scope is /tech; never cached by HTTP, so a new version installs."""
    return Response(
        (STATIC / "sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/tech"},
    )
