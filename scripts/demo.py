"""Load demo data into a running Fixflow (tenant `demo`) through the public APIs only."""

from __future__ import annotations

import sys

import httpx

from fixflow_shared.testing import auth_headers

INTAKE = "http://127.0.0.1:8001"

DEMO_TICKETS = [
    {"kind": "repair", "channel": "phone", "symptom": "冰箱不制冷 (fridge not cooling)", "customer_name": "王芳",
     "contact_email": "wang.fang@example.com", "contact_phone": "13812345678", "locale": "zh-CN"},
    {"kind": "installation", "channel": "web", "symptom": "wardrobe installation, 3 doors", "customer_name": "Li Wei",
     "contact_email": "li.wei@example.com", "locale": "en"},
    {"kind": "repair", "channel": "wechat", "symptom": "drawer rail broken", "customer_name": "张伟",
     "contact_phone": "13987654321", "locale": "zh-CN"},
    {"kind": "complaint", "channel": "phone", "symptom": "technician was two hours late", "customer_name": "赵敏",
     "contact_email": "zhao.min@example.com", "locale": "zh-CN"},
]


def main() -> int:
    headers = {**auth_headers("demo", "agent,manager"), "Idempotency-Key": ""}
    created = []
    with httpx.Client(timeout=10) as client:
        for i, body in enumerate(DEMO_TICKETS):
            # Stable idempotency keys: running the demo loader twice does not duplicate tickets.
            headers["Idempotency-Key"] = f"demo-ticket-{i}"
            r = client.post(INTAKE + "/v1/tickets", json=body, headers=headers)
            if r.status_code not in (200, 201):
                print(f"demo: ticket {i} refused: {r.status_code} {r.text}", file=sys.stderr)
                return 1
            created.append(r.json()["id"])
    print("demo tickets: " + ", ".join(created))
    return 0


if __name__ == "__main__":
    sys.exit(main())
