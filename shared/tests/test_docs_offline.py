"""Every service's /docs renders without internet: the page and its assets come from the service."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from fixflow_shared.docs import install_offline_docs


async def test_docs_page_and_its_assets_are_served_locally():
    app = FastAPI(title="Fixflow example", docs_url=None, redoc_url=None)
    install_offline_docs(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        urls = re.findall(r'(?:href|src)="([^"]+)"', page.text)
        assert urls and all(u.startswith("/docs-assets/") for u in urls), urls
        assert "http://" not in page.text and "https://" not in page.text, "nothing may come from elsewhere"
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 500, url
        js = await client.get("/docs-assets/swagger-ui-bundle.js")
        assert "javascript" in js.headers["content-type"]
        # Swagger UI 5 reads OpenAPI 3.1, which FastAPI writes (4.x shows "no valid version field")
        assert app.openapi()["openapi"].startswith("3.1")
