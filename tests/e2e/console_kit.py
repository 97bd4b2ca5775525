"""Browser helpers for the console journeys: a person signing in with their roles, and the
screenshot of each page for docs/screenshots (shown in the README)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
# Every run takes the screenshots; they replace the README's pictures in docs/screenshots only when
# asked (FIXFLOW_UPDATE_SCREENSHOTS=1, `make screenshots`), so a test run leaves the tree clean.
SCREENSHOTS = (
    _ROOT / "docs" / "screenshots" if os.environ.get("FIXFLOW_UPDATE_SCREENSHOTS") else _ROOT / ".local" / "screenshots"
)
VIEWPORT = {"width": 1280, "height": 800}  # the console is used at 1280x800 and up


class Person:
    """One person at their own browser (a context of their own: own cookies, own live stream)."""

    LOGIN = {  # the sign-in page's words in each language
        "en": ("Tenant", "Your name", {"Agent": "agent", "Dispatcher": "dispatcher", "Manager": "manager"}, "Sign in"),
        "zh-CN": ("租户", "您的姓名", {"坐席": "agent", "调度员": "dispatcher", "经理": "manager"}, "登录"),
    }

    def __init__(
        self,
        browser: Any,
        console_url: str,
        *,
        name: str,
        tenant: str,
        roles: list[str],
        locale: str = "en-US",
        lang: str = "en",
    ):
        self.url = console_url
        self.context = browser.new_context(viewport=VIEWPORT, locale=locale)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{console_url}/login")
        tenant_label, name_label, role_labels, button = self.LOGIN[lang]
        self.page.get_by_label(tenant_label).fill(tenant)
        self.page.get_by_label(name_label).fill(name)
        for label, role in role_labels.items():
            self.page.get_by_role("checkbox", name=label).set_checked(role in roles)
        self.page.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_url(lambda u: "/login" not in u)

    def go(self, path: str) -> Any:
        self.page.goto(self.url + path)
        return self.page

    def live(self) -> None:
        """Wait until the page's live stream is open (the 'Live' badge), as a person would see."""
        from playwright.sync_api import expect

        expect(self.page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=15_000)

    def shot(self, name: str, *, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        assert not self.errors, f"script errors on the page: {self.errors}"
        self.context.close()
