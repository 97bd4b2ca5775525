"""Channel adapters (plugin interfaces for external systems): SMTP email, SMS over an HTTP gateway,
signed webhooks. Each provider raises TransientSendError (worth a retry / the failover provider)
or PermanentSendError (the message is refused; retrying cannot help).

SMS gateway provider contract (what a provider adapter, or a provider itself, must answer):

    POST {base_url}/v1/messages
    Authorization: Bearer <token>            (when configured)
    Idempotency-Key: <delivery id>           (a provider must not send twice for the same key)
    Content-Type: application/json
    {"to": "+8613800138000", "text": "...", "sender": "Fixflow", "reference": "<delivery id>"}

    2xx  {"id": "<provider message id>"}      accepted
    408, 429, 5xx, timeout, connection error  transient: retried with backoff, then the failover provider
    other 4xx                                 permanent: the number or text is refused; dead letter
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import smtplib
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import orjson

from notify.domain import signing, webhook_targets


class TransientSendError(Exception):
    pass


class PermanentSendError(Exception):
    pass


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    tenant_id: str
    ticket_id: str | None
    recipient: str
    subject: str
    body: str
    event_type: str


class Provider(Protocol):
    name: str

    async def send(self, msg: Outgoing) -> str | None:
        """Hand the message over; returns the provider's message id if it gives one."""


# --- email -----------------------------------------------------------------------------------------


_SMTP_WIRE = compat32.clone(linesep="\r\n")


class SmtpEmail:
    """SMTP with a small pool of kept-open connections (smtplib in worker threads)."""

    def __init__(self, *, host: str, port: int, sender: str, timeout_s: float = 10.0, pool_size: int = 4) -> None:
        self.name = f"smtp://{host}:{port}"
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout_s
        self._idle: list[smtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)

    def _connect(self) -> smtplib.SMTP:
        conn = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        conn.ehlo_or_helo_if_needed()
        return conn

    def _send_sync(self, conn: smtplib.SMTP | None, rcpt: str, data: bytes) -> smtplib.SMTP:
        if conn is not None:
            try:
                conn.sendmail(self._sender, [rcpt], data)
                return conn
            except smtplib.SMTPServerDisconnected:
                with contextlib.suppress(Exception):
                    conn.close()
        conn = self._connect()
        conn.sendmail(self._sender, [rcpt], data)
        return conn

    def _compose(self, msg: Outgoing) -> tuple[str, bytes]:
        # compat32 MIMEText: the same RFC 5322 output as EmailMessage for plain text, at a
        # fraction of the header-parsing cost (this runs once per email).
        message = MIMEText(msg.body, "plain", "utf-8")
        message["From"] = self._sender
        message["To"] = msg.recipient
        message["Subject"] = encode_subject(msg.subject)
        message["Date"] = formatdate(localtime=False)
        msgid = f"<{msg.delivery_id}@{self._sender.rpartition('@')[2] or 'fixflow.local'}>"
        message["Message-ID"] = msgid
        message["X-Fixflow-Delivery"] = msg.delivery_id
        if msg.ticket_id:
            message["X-Fixflow-Ticket"] = msg.ticket_id
        # SMTP wants CRLF line ends; smtplib sends bytes as they are, and a message with bare LFs
        # is one endless line to a strict server (which refuses it, rightly: bare-LF smuggling).
        return msgid, message.as_bytes(policy=_SMTP_WIRE)

    async def send(self, msg: Outgoing) -> str | None:
        msgid, data = self._compose(msg)
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            try:
                conn = await asyncio.to_thread(self._send_sync, conn, msg.recipient, data)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                code = getattr(exc, "smtp_code", None) or 0
                if isinstance(exc, smtplib.SMTPRecipientsRefused):
                    code = min((c for c, _ in exc.recipients.values()), default=550)
                if 400 <= code < 500:
                    raise TransientSendError(f"SMTP {code}") from exc
                raise PermanentSendError(f"SMTP refused: {code}") from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise TransientSendError(f"SMTP: {type(exc).__name__}: {exc}") from exc
            self._idle.append(conn)
        return msgid

    async def close(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(conn.quit)


def encode_subject(subject: str) -> str:
    """RFC 2047 for the non-ASCII words only, so ASCII parts (the ticket id) stay readable in the
    raw header: '【受理】工单 T-1' -> '=?utf-8?b?...?= T-1'."""
    if subject.isascii():
        return subject
    header = Header()
    for word in re.split(r"(\s+)", subject):
        if not word or word.isspace():
            continue
        header.append(word, "us-ascii" if word.isascii() else "utf-8")
    return header.encode(maxlinelen=998)


# --- HTTP (SMS gateway, webhooks) ---------------------------------------------------------------------


def _classify(resp: httpx.Response, what: str) -> None:
    if resp.status_code < 300:
        return
    detail = f"{what} answered {resp.status_code}"
    if resp.status_code in (408, 425, 429) or resp.status_code >= 500:
        raise TransientSendError(detail)
    raise PermanentSendError(detail)


class HttpSmsGateway:
    def __init__(self, *, name: str, base_url: str, token: str | None, sender: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._token = token
        self._sender = sender
        self._client = client

    async def send(self, msg: Outgoing) -> str | None:
        headers = {"Idempotency-Key": msg.delivery_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"to": msg.recipient, "text": msg.body, "sender": self._sender, "reference": msg.delivery_id}
        try:
            resp = await self._client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"{self.name}: {type(exc).__name__}") from exc
        _classify(resp, self.name)
        with contextlib.suppress(Exception):
            return str(resp.json().get("id"))
        return None


class SignedWebhook:
    """POSTs the event to a partner URL, signed with the endpoint's secret (domain/signing.py)."""

    name = "webhook"

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        secret_of: SecretLookup,
        production: bool = True,
        allowed_networks: Sequence[webhook_targets.Network] = (),
    ) -> None:
        self._client = client
        self._secret_of = secret_of
        self._production = production
        self._allowed = tuple(allowed_networks)

    async def _check_target(self, url: str) -> None:
        """The URL's rules again (settings may have changed) and every address its host resolves to now."""
        try:
            host = webhook_targets.check_url(url, production=self._production, allowed=self._allowed)
            port = urlsplit(url).port or (443 if url.startswith("https") else 80)
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            for info in infos:
                webhook_targets.check_address(str(info[4][0]), self._allowed)
        except webhook_targets.InvalidWebhookTarget as exc:
            raise PermanentSendError(f"webhook: {exc}") from exc
        except OSError as exc:  # the name does not resolve (now): try again later
            raise TransientSendError(f"webhook: cannot resolve the target ({type(exc).__name__})") from exc

    async def send(self, msg: Outgoing) -> str | None:
        secret = await self._secret_of(msg)
        if secret is None:
            raise PermanentSendError("the webhook endpoint was removed")
        await self._check_target(msg.recipient)
        body = msg.body.encode()
        ts = int(time.time())  # wall time on purpose: the receiver checks it against its own clock
        headers = {
            "Content-Type": "application/json",
            signing.TIMESTAMP_HEADER: str(ts),
            signing.SIGNATURE_HEADER: signing.sign(secret, ts, body),
            signing.DELIVERY_HEADER: msg.delivery_id,
            signing.EVENT_HEADER: msg.event_type,
        }
        try:
            resp = await self._client.post(msg.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"webhook: {type(exc).__name__}") from exc
        _classify(resp, "webhook")
        return None


class SecretLookup(Protocol):
    async def __call__(self, msg: Outgoing) -> str | None: ...


def webhook_body(*, delivery_id: str, event_id: str, event_type: str, tenant_id: str, subject: str, data: dict) -> str:
    return orjson.dumps(
        {
            "id": delivery_id,
            "event_id": event_id,
            "type": event_type,
            "tenant": tenant_id,
            "subject": subject,
            "data": data,
        }
    ).decode()
