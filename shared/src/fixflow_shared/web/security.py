"""Protections every page of a web application needs: the CSRF check of unsafe requests, redirect
targets kept on the site, and the security headers of every answer."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Exception):
    """An unsafe request without the session's CSRF token."""


async def check_csrf(request: Request, expected: str) -> None:
    """Synchronizer token: every unsafe request carries the session's token, in the X-CSRF-Token
    header (htmx sends it from <body hx-headers>, scripts set it) or a csrf_token form field
    (plain forms)."""
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf_token") or "")
    if not sent or not secrets.compare_digest(sent, expected):
        raise CsrfRefused()


def double_submit_ok(request: Request, cookie: str, sent: str) -> bool:
    """A form posted before any session exists (sign-in) carries the value of its own cookie."""
    value = request.cookies.get(cookie, "")
    return bool(value) and bool(sent) and secrets.compare_digest(value, sent)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (an open redirect would hand the session to another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def install_security_headers(app: FastAPI, csp: str, *, static_prefix: str = "/static/") -> None:
    """Content-Security-Policy, no sniffing, same-origin referrers; pages are never cached (they
    carry personal data and a CSRF token), static files may be."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(static_prefix):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def set_session_cookie(response: Response, cookie: str, session_id: str, *, max_age: int, secure: bool) -> None:
    """The session's id: out of scripts' reach, sent on top-level navigation from other sites (a
    link in a message opens a signed-in page), over HTTPS only where `secure`."""
    response.set_cookie(cookie, session_id, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/")


def set_sign_in_form_cookie(response: Response, cookie: str, token: str, *, secure: bool) -> None:
    """The double-submit value of a sign-in form (see `double_submit_ok`), for half an hour; sent by
    this site's own forms only."""
    response.set_cookie(cookie, token, max_age=1800, httponly=True, samesite="strict", secure=secure, path="/")
