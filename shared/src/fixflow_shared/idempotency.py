"""Idempotency-Key on POST, kept in Redis: a retried request gets the first answer again.

Keys are scoped by service, authenticated caller (tenant and subject, verified here with the
service's authenticator, so a forged token can never read another caller's answer) and key. A
request that does not authenticate passes through untouched and gets its 401 from the route. The same
key with a different body is refused (422); a key whose first request is still running answers
409 (a claim is a lease of IN_FLIGHT_LEASE_S, renewed while the request runs, so the claim of a
replica killed mid-request frees within seconds and the client's retry on another replica runs,
instead of answering 409 for a minute). Server errors are not stored, so the client may retry them. A replay is authorised again: the
route's action (policy table) and object owner are checked for the caller presenting the key now,
so a token that lost a role gets 403, and one that lost the object 404, not the stored answer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from typing import Any

import orjson
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fixflow_shared.access import action_for
from fixflow_shared.auth import Authenticator, Principal
from fixflow_shared.errors import BadRequest, Conflict, FixflowError, Unprocessable
from fixflow_shared.problems import PROBLEM_JSON, problem_body

HEADER = b"idempotency-key"
# A running request renews its claim every third of the lease; a dead one's lapses after it.
IN_FLIGHT_LEASE_S = 10.0
KEEP_TTL_S = 24 * 3600
MAX_KEY_LEN = 255


class BadKey(BadRequest):
    title = "Bad Idempotency-Key"


class InProgress(Conflict):
    title = "Request in progress"


class KeyReused(Unprocessable):
    title = "Idempotency-Key reused"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, redis: Redis, service: str, authenticator: Authenticator) -> None:
        self.app = app
        self.redis = redis
        self.service = service
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LEN:
            await _problem(send, scope, BadKey(f"the key must have 1 to {MAX_KEY_LEN} characters"))
            return

        principal = self._principal(scope)
        if principal is None:
            await self.app(scope, receive, send)
            return
        caller = f"{principal.tenant}\0{principal.subject}"

        body = await _read_body(receive)
        redis_key = (
            f"idem:{self.service}:{hashlib.sha256(caller.encode()).hexdigest()[:24]}:{hashlib.sha256(key).hexdigest()}"
        )
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()

        claimed = await self.redis.set(
            redis_key,
            orjson.dumps({"state": "in_flight", "fp": fingerprint}),
            nx=True,
            px=int(IN_FLIGHT_LEASE_S * 1000),
        )
        if not claimed:
            await self._answer_again(send, scope, redis_key, fingerprint, principal)
            return

        replayed_body = False

        async def replay_receive() -> Message:
            nonlocal replayed_body
            if not replayed_body:
                replayed_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        resp_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status, resp_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                resp_headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        lease = asyncio.create_task(self._renew(redis_key))
        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            lease.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await lease
            if status >= 500:
                await self.redis.delete(redis_key)
            else:
                record = {
                    "state": "done",
                    "fp": fingerprint,
                    "status": status,
                    "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp_headers],
                    "body": base64.b64encode(b"".join(chunks)).decode(),
                }
                await self.redis.set(redis_key, orjson.dumps(record), ex=KEEP_TTL_S)

    async def _renew(self, redis_key: str) -> None:
        """Keep this request's claim while it runs (the claim is still ours: only we write it until
        it lapses, and it cannot lapse while we renew)."""
        while True:
            await asyncio.sleep(IN_FLIGHT_LEASE_S / 3)
            with contextlib.suppress(Exception):  # Redis away: the claim lapses, the request goes on
                await self.redis.pexpire(redis_key, int(IN_FLIGHT_LEASE_S * 1000))

    async def _answer_again(
        self, send: Send, scope: Scope, redis_key: str, fingerprint: str, principal: Principal
    ) -> None:
        """A key seen before: replay the first answer, or say why it cannot be replayed."""
        stored = await self.redis.get(redis_key)
        record = orjson.loads(stored) if stored else None
        if record is None:
            await _problem(send, scope, InProgress("retry shortly"))
        elif record["fp"] != fingerprint:
            await _problem(send, scope, KeyReused("this key was used with a different request"))
        elif record["state"] == "in_flight":
            await _problem(send, scope, InProgress("the first request with this key has not finished"))
        elif await _still_allowed(send, scope, principal):
            await _replay(send, record)

    def _principal(self, scope: Scope) -> Principal | None:
        try:
            return self.authenticator.authenticate(Request(scope))
        except Exception:
            return None


async def _still_allowed(send: Send, scope: Scope, principal: Principal) -> bool:
    """Authorise the replay as the route would the request; answer the refusal if it is one."""
    app = scope.get("app")
    found = action_for(app, scope["method"], scope["path"]) if app is not None else None
    if found is None:
        return True
    authorize, params = found
    try:
        await authorize.check(Request({**scope, "path_params": dict(params)}), principal)
    except FixflowError as err:
        await _problem(send, scope, err)
        return False
    return True


async def _read_body(receive: Receive) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def _replay(send: Send, record: dict[str, Any]) -> None:
    body = base64.b64decode(record["body"])
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record["headers"]]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": record["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(send: Send, scope: Scope, err: FixflowError) -> None:
    """Answered here, not raised: this middleware runs outside the app's exception handler."""
    body = orjson.dumps(problem_body(err, scope["path"]))
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
