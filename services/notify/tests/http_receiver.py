"""A tiny real HTTP/1.1 server for tests (plain asyncio): stands in for an SMS gateway or a
partner's webhook receiver. Answers scripted status codes, then `default_status`; records requests."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import orjson

from fixflow_shared.testing.infra import free_port


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return orjson.loads(self.body)


@dataclass
class HttpReceiver:
    port: int = field(default_factory=free_port)
    default_status: int = 200
    script: list[int] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)  # every request, whatever the answer
    accepted: list[Request] = field(default_factory=list)  # those answered 2xx
    _server: asyncio.Server | None = None
    _open: set = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, *, script: list[int] | None = None, default_status: int = 200) -> None:
        self.script = list(script or [])
        self.default_status = default_status
        self.requests.clear()
        self.accepted.clear()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        for w in list(self._open):  # kept-alive client connections go down with the server
            w.close()
        if self._server:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                req = Request(method, path, headers, body)
                self.requests.append(req)
                status = self.script.pop(0) if self.script else self.default_status
                if status < 300:
                    self.accepted.append(req)
                payload = orjson.dumps({"id": f"msg-{len(self.requests)}"} if status < 300 else {"error": "scripted"})
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()
