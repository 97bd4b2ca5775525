"""The operator's command line over the services' admin API (every action goes through it, so it
is checked and audited the same way):

    python -m fixflow_shared.deadletters summary
    python -m fixflow_shared.deadletters list [--topic fixflow.intake.tickets] [--status all]
    python -m fixflow_shared.deadletters show <id>
    python -m fixflow_shared.deadletters replay <id> --note "fix deployed in 1.4.2" [--force]
    python -m fixflow_shared.deadletters discard <id> --note "duplicate of a manual correction"

`--service intake` (repeatable; default every service) picks whose dead letters; `--url` overrides
where that service answers (default the local ports of `make run`, or FIXFLOW_<SERVICE>_URL).
The bearer token comes from FIXFLOW_TOKEN (a token with the admin role in the tenant concerned).
An id names its topic, so show/replay/discard ask each service until one knows it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

LOCAL_PORTS = {"intake": 8001, "dispatch": 8002, "billing": 8003, "survey": 8004, "notify": 8005, "insight": 8007}


def service_url(service: str, override: str | None = None) -> str:
    if override:
        return override.rstrip("/")
    env = os.environ.get(f"FIXFLOW_{service.upper()}_URL")
    if env:
        return env.rstrip("/")
    return f"http://127.0.0.1:{LOCAL_PORTS.get(service, 8000)}"


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))[:80]) for r in rows)) for c in columns} if rows else {}
    print("  ".join(c.upper().ljust(widths.get(c, len(c))) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, ""))[:80].ljust(widths[c]) for c in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fixflow_shared.deadletters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", action="append", help="intake, dispatch, ... (default: all)")
    parser.add_argument("--url", help="base URL of the one --service")
    parser.add_argument("--token", default=os.environ.get("FIXFLOW_TOKEN"), help="default: $FIXFLOW_TOKEN")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("summary", help="counts per source topic and status")
    ls = sub.add_parser("list", help="dead letters with their reason")
    ls.add_argument("--topic")
    ls.add_argument("--status", default="pending", choices=["pending", "replayed", "discarded", "all"])
    show = sub.add_parser("show", help="one dead letter with headers and body")
    show.add_argument("id")
    for name in ("replay", "discard"):
        p = sub.add_parser(name, help=f"{name} one dead letter (audited)")
        p.add_argument("id")
        p.add_argument("--note", default="", help="why: the fix deployed, the incident")
        if name == "replay":
            p.add_argument("--force", action="store_true", help="replay again one replayed before")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("no token: set FIXFLOW_TOKEN (python -m fixflow_shared.auth --tenant T --roles admin)")
    services = args.service or list(LOCAL_PORTS)
    headers = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(timeout=30, headers=headers) as http:

        def call(service: str, method: str, path: str, **kw: Any) -> httpx.Response:
            return http.request(method, service_url(service, args.url) + "/v1/admin/dead-letters" + path, **kw)

        if args.command in ("summary", "list"):
            rows: list[dict[str, Any]] = []
            for s in services:
                params = {"topic": args.topic, "status": args.status} if args.command == "list" else {}
                r = call(
                    s,
                    "GET",
                    "" if args.command == "list" else "/summary",
                    params={k: v for k, v in params.items() if v},
                )
                if r.status_code != 200:
                    print(f"{s}: {r.status_code} {r.text[:300]}", file=sys.stderr)
                    continue
                rows += [{"service": s, **row} for row in r.json()]
            cols = (
                ["service", "source_topic", "pending", "replayed", "discarded"]
                if args.command == "summary"
                else ["service", "id", "status", "event_type", "subject", "error", "reason"]
            )
            _print_table(rows, cols)
            return 0
        for s in services:
            if args.command == "show":
                r = call(s, "GET", f"/{args.id}")
            else:
                body = {"note": args.note, **({"force": True} if getattr(args, "force", False) else {})}
                r = call(s, "POST", f"/{args.id}/{args.command}", json=body)
            if r.status_code == 404 and len(services) > 1:
                continue  # another service's
            print(json.dumps(r.json(), indent=2, ensure_ascii=False, default=str))
            return 0 if r.status_code < 400 else 1
        print(f"no service knows dead letter {args.id}", file=sys.stderr)
        return 1
