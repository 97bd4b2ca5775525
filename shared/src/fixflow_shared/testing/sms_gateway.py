"""A local SMS gateway speaking notify's provider contract (POST /v1/messages), for tests and
`make run`. It records every accepted message, honours Idempotency-Key, and can be told to fail.

    python -m fixflow_shared.testing.sms_gateway --port 1026 --log .local/sms/messages.jsonl

runs it on its own (what `make run` does): each accepted message is one JSON line in the log, where
a developer reads the codes and links notify sent."""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fixflow_shared.testing.infra import free_port


@dataclass
class SmsGateway:
    port: int = field(default_factory=free_port)
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many requests first
    down: bool = False  # answer 503 to everything
    requests: int = 0
    log: Path | None = None  # each accepted message appended as a JSON line

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, str] = {}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, answer = gateway._handle(self.path, self.headers.get("Idempotency-Key"), body)
                out = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, path: str, key: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if path != "/v1/messages":
                return 404, {"error": "not found"}
            if self.down or self.fail_next > 0:
                self.fail_next = max(0, self.fail_next - 1)
                return 503, {"error": "unavailable"}
            try:
                msg = json.loads(body)
                to, text = msg["to"], msg["text"]
            except (ValueError, KeyError):
                return 400, {"error": "to and text are required"}
            if key and key in self._by_key:
                return 200, {"id": self._by_key[key]}
            mid = str(uuid.uuid4())
            if key:
                self._by_key[key] = mid
            record = {"id": mid, "to": to, "text": text, "reference": msg.get("reference")}
            self.messages.append(record)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            return 200, {"id": mid}

    def to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == number]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a local SMS gateway that keeps every message")
    parser.add_argument("--port", type=int, default=1026)
    parser.add_argument("--log", type=Path, required=True, help="JSON lines file the messages are appended to")
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    gateway = SmsGateway(port=args.port, log=args.log)
    print(f"SMS gateway on {gateway.url}/v1/messages, messages in {args.log}", flush=True)
    gateway._server.serve_forever()


if __name__ == "__main__":
    main()
