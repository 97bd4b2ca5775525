"""/docs without internet: Swagger UI served by the service itself.

FastAPI's default /docs page loads Swagger UI from a CDN, so it renders blank on a machine without
internet. The assets are vendored under static/swagger-ui (pinned, checksummed in SHA256SUMS) and
mounted at /docs-assets.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/docs-assets"


def install_offline_docs(app: FastAPI, *, docs_path: str = "/docs") -> None:
    """Serve `docs_path` with local assets; build the app with docs_url=None, redoc_url=None."""
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    app.add_api_route(docs_path, docs, include_in_schema=False, methods=["GET"])
