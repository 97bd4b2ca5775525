"""Two languages, zh-CN and en: the browser's Accept-Language chooses, a cookie remembers a switch.

Pages are written in English and translated by catalogue (`<app>/locales/zh-CN.json` maps each
English text to its Chinese one, gettext style); each application tests that every text of its
templates has its translation. Codes the services send (statuses, kinds, rules) are shown through
a labeller: the application's English name of each code, translated by the same catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fixflow_shared.web.security import safe_next

LOCALES = ("zh-CN", "en")


def negotiate(accept_language: str | None, chosen: str | None, default: str = "zh-CN") -> str:
    """A switch (cookie) wins; else the browser's preference among zh-CN and en; else `default`."""
    if chosen in LOCALES:
        return chosen
    prefs: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        prefs.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(prefs):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


class Catalogue:
    """One application's translations (`directory/<locale>.json`) and English names of codes."""

    def __init__(self, directory: Path, labels: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.labels = dict(labels or {})
        self.table = cache(self._load)

    def _load(self, locale: str) -> dict[str, str]:
        if locale == "en":
            return {}
        return json.loads((self.directory / f"{locale}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def translator(self, locale: str) -> Callable[..., str]:
        table = self.table(locale)

        def _(text: str, **values: Any) -> str:
            out = table.get(text, text)
            return out.format(**values) if values else out

        return _

    def labeller(self, locale: str) -> Callable[[Any], str]:
        _ = self.translator(locale)
        labels = self.labels

        def label(code: Any) -> str:
            if code is None:
                return "—"
            text = str(code)
            return _(labels.get(text, text.replace("_", " ").capitalize()))

        return label


def switch_language(request: Request, code: str, cookie: str) -> Response:
    """`/lang/{code}?next=...`: remember the choice for a year, back to the page (on this site)."""
    response = RedirectResponse(safe_next(request.query_params.get("next")) or "/", status_code=303)
    if code in LOCALES:
        response.set_cookie(cookie, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
