"""Load a realistic demo tenant `demo` into a running Fixflow, through the public APIs only.

    .venv/bin/python scripts/demo.py          (run by `make run` once the five services answer)

What it sets up (a service centre in Shanghai):
- billing: the retailer's fee schedule of docs/domain.md (visit 20 CNY, adjustment 20 CNY, fitting labour
  30 CNY, a small parts list), priced tax-inclusive at 6 %;
- intake: SLA targets after docs/domain.md (answer within 4 h, on site within 24 h in province / 48 h out
  of it, complaints 3 h / 24 h / 48 h) on the Chinese business calendar;
- survey: a plan that sends the satisfaction survey by email on the day of resolution (the default is
  3 working days after it, docs/domain.md; the demo sends at once so the answered survey can be shown);
- dispatch: the skills catalogue and 20 technicians with skills, service badges, regions and van
  stock, living around Shanghai;
- intake: 200 customers (Chinese and English names; phones and emails are fictitious, emails on
  example.com) with an address and an appliance each;
- tickets in every state, driven through the real flows: waiting for the customer, triaged for a
  remote fix, scheduled, technician on site, resolved (charge waived), cancelled, a complaint, and
  one out-of-warranty repair followed from quote and consent through the technician app, the invoice
  and its payment to the survey answered on its public link (closed).

Idempotent: every record is looked up before it is created (customers by phone, appliances by
serial, technicians by name, tickets by customer, and every step checks the current state first),
and every POST carries a stable Idempotency-Key, so running `make run` twice duplicates nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson

from fixflow_shared.testing import auth_headers
from fixflow_shared.testing.checklists import photo_bytes, required_answers

HOST = os.environ.get("FIXFLOW_DEMO_HOST", "127.0.0.1")
URL = {  # FIXFLOW_DEMO_<SERVICE>_URL points the loader at services elsewhere
    s: os.environ.get(f"FIXFLOW_DEMO_{s.upper()}_URL", f"http://{HOST}:{p}")
    for s, p in (("intake", 8001), ("dispatch", 8002), ("billing", 8003), ("survey", 8004), ("notify", 8005))
}
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
TENANT = os.environ.get("FIXFLOW_DEMO_TENANT", "demo")
STAFF = auth_headers(TENANT, "agent,dispatcher,manager", subject="demo-loader")


def technician_app(technician_id: str) -> dict[str, str]:
    """The technician app of the work order's own technician (a technician acts on its own work only)."""
    return auth_headers(TENANT, "technician", subject=f"app-{technician_id}", technician_id=technician_id)


CONCURRENCY = 12
CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai
TODAY = date.today()

# ------------------------------------------------------------------------------------------- data

SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
]
GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("晓东", "xiaodong"),
    ("海燕", "haiyan"),
]
EN_FIRST = [
    "James",
    "Emma",
    "Oliver",
    "Sophie",
    "Daniel",
    "Grace",
    "Thomas",
    "Chloe",
    "Lucas",
    "Hannah",
    "Ethan",
    "Mia",
]
EN_LAST = ["Smith", "Brown", "Taylor", "Wilson", "Walker", "Clarke", "Wright", "Hughes", "Green", "Evans"]
# district, region code, in province, lat, lon
DISTRICTS = [
    ("黄浦区", "CN-31", True, 31.2317, 121.4846),
    ("徐汇区", "CN-31", True, 31.1886, 121.4365),
    ("静安区", "CN-31", True, 31.2286, 121.4479),
    ("浦东新区", "CN-31", True, 31.2215, 121.5447),
    ("闵行区", "CN-31", True, 31.1128, 121.3817),
    ("杨浦区", "CN-31", True, 31.2595, 121.5260),
    ("长宁区", "CN-31", True, 31.2204, 121.4244),
    ("普陀区", "CN-31", True, 31.2496, 121.3972),
    ("苏州工业园区", "CN-32", False, 31.3150, 120.6700),
    ("昆山市", "CN-32", False, 31.3856, 120.9808),
]
STREETS = ["南京东路", "淮海中路", "衡山路", "世纪大道", "虹桥路", "四平路", "长寿路", "愚园路", "金科路", "人民路"]
# the appliance of each customer in the ticket stories below (others cycle through PRODUCTS)
STORY_MODELS = {
    10: "RF-520-X",
    11: "AC-35-INV",
    12: "WM-8KG-A1",
    13: "RH-900-S",
    14: "WH-60-E",
    15: "WH-60-E",
    16: "WR-3D-OAK",
    17: "WM-8KG-A1",
    18: "WR-3D-OAK",
    19: "RH-900-S",
    20: "WR-3D-OAK",
}
GRADES = ["C"] * 6 + ["B"] * 3 + ["A", "VIP"]
PRODUCTS = [  # model, name, warranty months
    ("WM-8KG-A1", "Front-load washer 8 kg (滚筒洗衣机)", 12),
    ("RF-520-X", "French-door fridge 520 L (对开门冰箱)", 12),
    ("AC-35-INV", "Inverter air conditioner 3.5 kW (变频空调)", 12),
    ("WR-3D-OAK", "Three-door oak wardrobe (三门衣柜)", 24),
    ("RH-900-S", "Range hood 900 mm (抽油烟机)", 12),
    ("WH-60-E", "Electric water heater 60 L (电热水器)", 12),
]
SKILLS = {
    "general_repair": "General repair (综合维修)",
    "plumbing": "Plumbing (水路)",
    "electrical": "Electrical (电路)",
    "electronics": "Electronics (电控)",
    "refrigeration": "Refrigeration (制冷)",
    "installation": "Installation (安装)",
    "maintenance": "Maintenance (保养)",
    "mechanical": "Mechanical (机械)",
    "gas_safety": "Gas safety (燃气安全)",
}
BADGES = ["service_badge", "electrician_licence", "refrigerant_handling", "gas_appliance_permit", "work_at_height"]
TECH_NAMES = [
    "刘建国",
    "陈志强",
    "王海涛",
    "张国栋",
    "李明辉",
    "赵永刚",
    "孙立新",
    "周文斌",
    "吴德胜",
    "郑宏伟",
    "黄俊杰",
    "林志勇",
    "何家豪",
    "高振宇",
    "罗晓峰",
    "Mike Chen",
    "David Wu",
    "Kevin Zhang",
    "Leo Sun",
    "Ryan Xu",
]

PRICE_BOOK = {  # the retailer's fee schedule (docs/domain.md, "Fee schedule"), minor units of CNY
    "effective_from": "2020-01-01",
    "currency": "CNY",
    "visit_fee_minor": 2000,
    "adjustment_fee_minor": 2000,
    "fitting_labour_minor": 3000,
    "parts_basis": "cost",
    "freight_minor": 0,
    "second_visit_charges_visit_fee": False,
    "tax_rate_bp": 600,
    "tax_inclusive": True,
    "waiver_approval_threshold_minor": 5000,
    "return_window_days": 30,
    "parts": {
        "HINGE-35": {"cost_minor": 1500, "list_minor": 2500, "description": "cabinet hinge 35 mm"},
        "DRAWER-RAIL": {"cost_minor": 2800, "list_minor": 4500, "description": "drawer rail pair"},
        "PUMP-W1": {"cost_minor": 9000, "list_minor": 15000, "description": "washer drain pump"},
        "SEAL-RF": {"cost_minor": 6000, "list_minor": 9800, "description": "fridge door seal"},
        "THERMO-WH": {"cost_minor": 4500, "list_minor": 7200, "description": "water heater thermostat"},
    },
    "resolution_codes": {
        "adjusted": ["adjustment", "unknown"],
        "replaced_part": ["part_replacement", "unknown"],
        "reinstalled": ["reinstall", "unknown"],
        "repaired": ["repair", "unknown"],
        "no_fault_found": ["inspection", "unknown"],
        "customer_damage": ["repair", "customer"],
    },
}
SETTINGS = {
    "calendar": {"country": "CN", "tz": "Asia/Shanghai", "working_hours": ["09:00:00", "18:00:00"]},
    "sla": {
        "at_risk_share": 0.8,
        "targets": {
            "first_response": {"P1": 1, "P2": 2, "P3": 4, "P4": 4},
            "on_site_arrival": {"in_province": 24, "out_of_province": 48, "P1": 12},
            "resolution": {"P1": 24, "P2": 48, "P3": 72, "P4": 120},
            "complaint_record": {"any": 3},
            "complaint_contact": {"any": 24},
            "complaint_fix": {"any": 48},
        },
    },
    "duplicate_window_hours": 72,
}


def survey_plan() -> dict[str, Any]:
    # Sent by email at 00:00 UTC of the resolution day: already due, so the timer sends it at once.
    # Today and tomorrow count as working days, so a demo run on a weekend or holiday behaves the same.
    return {
        "delay_working_days": 0,
        "send_time": "00:00:00",
        "channel": "email",
        "ask_nps": True,
        "allow_comment": True,
        "reminder_after_days": [2],
        "expires_after_days": 7,
        "calendar": {
            "country": "CN",
            "tz": "UTC",
            "extra_workdays": [TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat()],
        },
    }


@dataclass
class Customer:
    i: int
    name: str
    phone: str
    email: str
    body: dict[str, Any]
    id: str | None = None
    asset_id: str | None = None


def customers() -> list[Customer]:
    rnd = random.Random(20261123)
    out = []
    for i in range(200):
        if i % 4 == 3:  # one in four English names
            first, last = rnd.choice(EN_FIRST), rnd.choice(EN_LAST)
            name, email = f"{first} {last}", f"{first.lower()}.{last.lower()}.{i:03d}@example.com"
        else:
            (s, sp), (g, gp) = rnd.choice(SURNAMES), rnd.choice(GIVEN)
            name, email = s + g, f"{sp}.{gp}.{i:03d}@example.com"
        phone = f"+86139{20260000 + i:08d}"  # fictitious, one per customer
        district, region, in_prov, lat, lon = DISTRICTS[i % len(DISTRICTS)]
        line = (
            f"上海市{district}{rnd.choice(STREETS)}{rnd.randint(1, 999)}号{rnd.randint(1, 30)}0{rnd.randint(1, 4)}室"
            if region == "CN-31"
            else f"江苏省{district}{rnd.choice(STREETS)}{rnd.randint(1, 999)}号"
        )
        body = {
            "type": "person",
            "name": name,
            "phone": phone,
            "email": email,
            "grade": rnd.choice(GRADES),
            "addresses": [
                {
                    "id": f"ADR-DEMO-{i:03d}",
                    "line": line,
                    "city": "上海" if region == "CN-31" else "苏州",
                    "region": region,
                    "in_province": in_prov,
                    "lat": round(lat + rnd.uniform(-0.02, 0.02), 5),
                    "lon": round(lon + rnd.uniform(-0.02, 0.02), 5),
                }
            ],
        }
        out.append(Customer(i, name, phone, email, body))
    return out


def asset_of(c: Customer, product_ids: dict[str, str]) -> dict[str, Any]:
    rnd = random.Random(c.i)
    model = STORY_MODELS.get(c.i, PRODUCTS[c.i % len(PRODUCTS)][0])
    # customers 10..29 drive the ticket stories below: bought 3 months ago (in warranty), except the
    # out-of-warranty ones; the rest spread over the last three years
    age_days = {
        10: 90,
        11: 120,
        12: 60,
        13: 200,
        14: 45,
        15: 300,
        16: 30,
        17: 150,
        18: 100,
        19: 80,
        20: 1000,
        21: 900,
    }.get(c.i, rnd.randint(20, 1100))
    return {
        "customer_id": c.id,
        "product_id": product_ids[model],
        "serial": f"SN-{model}-{c.i:04d}",
        "purchase_date": (TODAY - timedelta(days=age_days)).isoformat(),
        "purchase_channel": rnd.choice(["JD.com", "Tmall", "store"]),
    }


# ----------------------------------------------------------------------------------------- client


class Refused(Exception):
    pass


@dataclass
class Api:
    client: httpx.AsyncClient
    calls: int = 0
    sem: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENCY))

    async def request(
        self,
        method: str,
        svc: str,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        **kw: Any,
    ) -> httpx.Response:
        h = dict(headers or STAFF)
        if key:
            h["Idempotency-Key"] = f"demo:{key}"
        async with self.sem:
            for attempt in range(5):
                self.calls += 1
                r = await self.client.request(method, URL[svc] + path, json=json, headers=h, **kw)
                if r.status_code == 409 and "in progress" in r.text.lower() or r.status_code >= 500:
                    await asyncio.sleep(0.2 * (attempt + 1))  # a retried first request still running
                    continue
                break
        if r.status_code not in ok:
            raise Refused(f"{method} {svc}{path} -> {r.status_code} {r.text[:400]}")
        return r

    async def get(self, svc: str, path: str, **kw: Any) -> Any:
        return (await self.request("GET", svc, path, **kw)).json()

    async def post(self, svc: str, path: str, json: Any = None, *, key: str, **kw: Any) -> Any:
        r = await self.request("POST", svc, path, json=json, key=key, **kw)
        return r.json() if r.content else None


async def gather(n: int, fns: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    return list(await asyncio.gather(*(f() for f in fns)))


async def poll(what: str, fn: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise Refused(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


# ------------------------------------------------------------------------------------------ setup


async def setup_rules(api: Api) -> None:
    book = await api.get("billing", "/v1/price-books/effective")
    wanted = {k: v for k, v in PRICE_BOOK.items() if k != "effective_from"}
    if book["version"] == 0 or any(book["config"].get(k) != v for k, v in wanted.items() if k in book["config"]):
        await api.post("billing", "/v1/price-books", PRICE_BOOK, key="price-book-v1")
    await api.request("PUT", "intake", "/v1/settings", json=SETTINGS)
    await api.request("PUT", "survey", "/v1/survey-plan", json=survey_plan())
    for code, name in SKILLS.items():
        await api.post("dispatch", "/v1/skills", {"code": code, "name": name}, key=f"skill-{code}")


async def setup_technicians(api: Api) -> list[dict[str, Any]]:
    existing = {t["name"]: t for t in await api.get("dispatch", "/v1/technicians")}
    skill_sets = [
        ["general_repair", "plumbing", "mechanical"],
        ["electrical", "electronics", "general_repair"],
        ["refrigeration", "electrical", "general_repair"],
        ["installation", "mechanical", "general_repair"],
        ["maintenance", "plumbing", "gas_safety"],
    ]
    until = (datetime.now(UTC) + timedelta(days=700)).replace(microsecond=0).isoformat()

    async def one(i: int, name: str) -> dict[str, Any]:
        skills = {s: 2 + (i + k) % 4 for k, s in enumerate(skill_sets[i % len(skill_sets)])}
        _, _, _, lat, lon = DISTRICTS[i % len(DISTRICTS)]  # technicians 8, 9, 18, 19 live in Suzhou / Kunshan
        jitter = random.Random(1000 + i)
        body = {
            "name": name,
            "phone": f"+861372026{i:04d}",  # E.164, as dispatch stores it
            "team_id": f"team-{i % 4 + 1}",  # satisfaction is reported by team too
            "home_lat": round(lat + jitter.uniform(-0.03, 0.03), 5),
            "home_lon": round(lon + jitter.uniform(-0.03, 0.03), 5),
            "skills": skills,
            "regions": ["CN-31"] + (["CN-32"] if i % 5 == 0 else []),  # province codes, as on intake's sites
            "hours": {"tz": "Asia/Shanghai", "country": "CN", "days": {str(d): ["08:00", "20:00"] for d in range(6)}},
            "max_jobs_per_day": 6,
            "van_stock": {"HINGE-35": 6, "DRAWER-RAIL": 4, "PUMP-W1": 2, "SEAL-RF": 2, "THERMO-WH": 2},
        }
        if name in existing:  # keep an earlier run's technician in line with this data (not its van stock)
            t = existing[name]
            change = {
                k: body[k]
                for k in ("phone", "home_lat", "home_lon", "skills", "max_jobs_per_day", "team_id")
                if t.get(k) != body[k]
            }
            return (
                (await api.request("PATCH", "dispatch", f"/v1/technicians/{t['id']}", json=change)).json()
                if change
                else t
            )
        t = await api.post("dispatch", "/v1/technicians", body, key=f"tech-{i}")
        for b in ["service_badge"] + [BADGES[1 + (i + k) % 4] for k in range(i % 3)]:
            await api.post(
                "dispatch",
                f"/v1/technicians/{t['id']}/certifications",
                {"name": b, "valid_until": until, "number": f"{b[:3].upper()}-{2026000 + i}"},
                key=f"tech-{i}-{b}",
            )
        return t

    return await gather(CONCURRENCY, [lambda i=i, n=n: one(i, n) for i, n in enumerate(TECH_NAMES)])


async def setup_products(api: Api) -> dict[str, str]:
    ids: dict[str, str] = {}
    for k, (model, name, months) in enumerate(PRODUCTS):
        r = await api.request(
            "POST",
            "intake",
            "/v1/products",
            json={"model": model, "name": name, "warranty_months": months},
            key=f"product-{model}",
            ok=(201, 422),
        )
        if r.status_code == 201:
            ids[model] = r.json()["id"]
            continue
        # created by an earlier run: find it through an appliance of that model
        found = await api.get("intake", "/v1/assets", params={"serial": f"SN-{model}-{k:04d}"})
        if not found["items"]:
            raise Refused(f"product {model} exists but none of the demo appliances refers to it")
        ids[model] = found["items"][0]["product_id"]
    return ids


async def setup_customers(api: Api, people: list[Customer], product_ids: dict[str, str]) -> None:
    async def one(c: Customer) -> None:
        found = (await api.get("intake", "/v1/customers", params={"phone": c.phone}))["items"]
        c.id = (
            found[0]["id"]
            if found
            else (await api.post("intake", "/v1/customers", c.body, key=f"customer-{c.i}"))["id"]
        )
        asset = asset_of(c, product_ids)
        got = (await api.get("intake", "/v1/assets", params={"serial": asset["serial"]}))["items"]
        c.asset_id = got[0]["id"] if got else (await api.post("intake", "/v1/assets", asset, key=f"asset-{c.i}"))["id"]

    # the first customer of each product model first, so products can always be found again
    await gather(CONCURRENCY, [lambda c=c: one(c) for c in people[: len(PRODUCTS)]])
    await gather(CONCURRENCY, [lambda c=c: one(c) for c in people[len(PRODUCTS) :]])


# ----------------------------------------------------------------------------------------- stories


@dataclass
class Story:
    name: str
    customer: int
    ticket: dict[str, Any]
    target: str  # the state the story drives the ticket to
    part: str | None = None  # the part the technician fits
    id: str | None = None
    note: str = ""


STORIES = [
    Story(
        "waiting for the customer",
        1,
        {"kind": "repair", "channel": "phone", "symptom": "洗衣机噪音很大，型号记不清了"},
        "waiting_customer",
    ),
    Story(
        "waiting for the customer",
        2,
        {"kind": "installation", "channel": "web", "symptom": "New wardrobe delivered, please install"},
        "waiting_customer",
    ),
    Story(
        "remote fix first",
        10,
        {"kind": "repair", "channel": "phone", "symptom": "冰箱不制冷 (fridge not cooling)"},
        "triaged",
    ),
    Story(
        "remote fix first",
        11,
        {"kind": "repair", "channel": "wechat", "symptom": "空调遥控器没反应 (remote control not responding)"},
        "triaged",
    ),
    Story(
        "visit booked",
        12,
        {"kind": "repair", "channel": "phone", "symptom": "洗衣机漏水 (washer leaking)"},
        "scheduled",
    ),
    Story(
        "visit booked",
        13,
        {"kind": "installation", "channel": "web", "symptom": "Please install the new range hood"},
        "scheduled",
    ),
    Story(
        "visit booked",
        14,
        {"kind": "maintenance", "channel": "phone", "symptom": "热水器年度保养 (yearly maintenance)"},
        "scheduled",
    ),
    Story(
        "technician on site",
        15,
        {"kind": "repair", "channel": "phone", "symptom": "热水器漏水 (water heater leaking)"},
        "in_progress",
    ),
    Story(
        "technician on site",
        16,
        {"kind": "repair", "channel": "email", "symptom": "Wardrobe door hinge broken"},
        "in_progress",
    ),
    Story(
        "resolved, charge waived (in warranty)",
        17,
        {"kind": "repair", "channel": "phone", "symptom": "洗衣机门封漏水 (door seal leaking)"},
        "resolved",
        "PUMP-W1",
    ),
    Story(
        "resolved, charge waived (in warranty)",
        18,
        {"kind": "repair", "channel": "wechat", "symptom": "Drawer rail broken, drawer falls out"},
        "resolved",
        "DRAWER-RAIL",
    ),
    Story(
        "cancelled by the customer",
        19,
        {"kind": "repair", "channel": "phone", "symptom": "抽油烟机异响 (range hood noise)"},
        "cancelled",
    ),
    Story(
        "out of warranty: quote, consent, repair, invoice, payment, survey 5/5, closed",
        20,
        {"kind": "repair", "channel": "phone", "symptom": "衣柜抽屉滑轨坏了 (wardrobe drawer rail broken)"},
        "closed",
        "DRAWER-RAIL",
    ),
    Story(
        "complaint",
        21,
        {
            "kind": "complaint",
            "channel": "phone",
            "symptom": "师傅迟到两个小时，也没有提前打电话 (technician two hours late, no call)",
            "complaint_level": 2,
        },
        "complaint",
    ),
]
TARGETS = {"waiting_customer", "triaged", "scheduled", "in_progress", "resolved", "closed", "cancelled"}
FEATURED = 12  # index in STORIES of the ticket to follow


async def story_ticket(api: Api, s: Story, people: list[Customer], by_customer: dict[int, str]) -> None:
    c = people[s.customer]
    found = (await api.get("intake", "/v1/tickets", params={"customer_id": c.id, "limit": 1}))["items"]
    if found:
        s.id = found[0]["id"]
        return
    body = {**s.ticket, "customer_id": c.id, "locale": "en" if c.i % 4 == 3 else "zh-CN"}
    if s.target != "waiting_customer":
        body["asset_id"] = c.asset_id  # the appliance gives model, purchase date and (with the customer) the address
    if s.target == "complaint":
        body["original_ticket_id"] = by_customer[12]
        body.pop("asset_id", None)
    s.id = (await api.post("intake", "/v1/tickets", body, key=f"ticket-{s.customer}"))["id"]


async def ticket_status(api: Api, tid: str) -> str:
    return (await api.get("intake", f"/v1/tickets/{tid}"))["status"]


async def work_order_of(api: Api, tid: str) -> dict[str, Any]:
    """The work order dispatch placed for the ticket at once; if the job is still open after a while (no
    technician fitted when it arrived), the customer picks one of the offered windows instead."""
    job_id: str | None = None

    async def assigned() -> dict[str, Any] | None:
        nonlocal job_id
        r = await api.request("GET", "dispatch", f"/v1/jobs/by-ticket/{tid}", ok=(200, 404))
        if r.status_code == 404:
            return None
        job_id = r.json()["id"]
        job = await api.get("dispatch", f"/v1/jobs/{job_id}")
        active = [w for w in job["work_orders"] if w["status"] != "unassigned"]
        return active[-1] if active else None

    try:
        return await poll(f"a technician for {tid}", assigned, timeout=15)
    except Refused:
        if job_id is None:
            raise
    offers = await api.get("dispatch", f"/v1/jobs/{job_id}/offers")
    if not offers:
        raise Refused(f"no technician can take job {job_id} of {tid}")
    o = offers[0]
    await api.post(
        "dispatch",
        f"/v1/jobs/{job_id}/appointments",
        {"start": o["start"], "end": o["end"], "technician_id": o["technician_id"]},
        key=f"book-{job_id}",
    )
    return await poll(f"a technician for {tid}", assigned, timeout=15)


async def drive(api: Api, s: Story) -> None:
    tid = s.id
    assert tid is not None
    if s.target in ("waiting_customer", "triaged", "complaint"):
        return
    if s.target == "cancelled":
        if await ticket_status(api, tid) not in ("cancelled", "closed"):
            await api.post(
                "intake",
                f"/v1/tickets/{tid}/cancel",
                {"reason": "customer fixed it themselves"},
                key=f"cancel-{tid}",
                ok=(200, 409),
            )
        return
    if s.target == "closed":
        await consent(api, s)
    wo = await work_order_of(api, tid)
    s.note = f"technician {wo['technician_id']}, work order {wo['id']}"
    if s.target == "scheduled":
        return
    path = f"/v1/work-orders/{wo['id']}"
    tech = technician_app(wo["technician_id"])
    if wo["status"] == "assigned":
        await api.post("dispatch", f"{path}/en-route", key=f"enroute-{wo['id']}", headers=tech, ok=(200, 409))
        wo["status"] = "en_route"
    if wo["status"] == "en_route":
        await api.post("dispatch", f"{path}/arrival", {}, key=f"arrival-{wo['id']}", headers=tech, ok=(200, 409))
        wo["status"] = "on_site"
    if s.target == "in_progress":
        return
    if wo["status"] == "on_site":
        part = s.part
        await api.post(
            "dispatch",
            f"{path}/work",
            {
                "diagnosis": "worn part replaced, full check done (通检)",
                "labour_minutes": 35,
                "parts": [{"part_code": part, "quantity": 1}] if part else [],
            },
            key=f"work-{wo['id']}",
            headers=tech,
            ok=(200, 409),
        )
        name = "客户本人" if s.customer % 4 != 3 else "the customer"
        answers, photos = required_answers(await api.get("dispatch", f"{path}/checklist", headers=tech))
        for key in photos:  # an installation's acceptance photo
            up = await api.request(
                "POST",
                "dispatch",
                f"{path}/attachments",
                params={"kind": "photo"},
                content=photo_bytes(key),
                headers={**tech, "Content-Type": "image/png"},
                key=f"photo-{key}-{wo['id']}",
            )
            answers[key] = up.json()["id"]
        await api.post(
            "dispatch",
            f"{path}/completion",
            {
                "checklist": answers,
                "resolution_code": "replaced_part" if part else "repaired",
                "work_type": "part_replacement" if part else "repair",  # what billing prices by
                "signed_by": name,
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": hashlib.sha256(f"sig-{tid}".encode()).hexdigest(),
                "rating": 5,
            },
            key=f"done-{wo['id']}",
            headers=tech,
            ok=(200, 409, 422),
        )
    if s.target == "closed":
        await settle_and_survey(api, s)


async def consent(api: Api, s: Story) -> None:
    """Out of warranty: the agent quotes the repair by the fee schedule and the customer accepts on the phone."""
    tid = s.id

    async def job_waiting() -> dict[str, Any] | None:
        r = await api.request("GET", "dispatch", f"/v1/jobs/by-ticket/{tid}", ok=(200, 404))
        return r.json() if r.status_code == 200 else None

    job = await poll(f"the job of {tid}", job_waiting)
    if job["status"] != "awaiting_consent":
        return
    body = {
        "ticket_id": tid,
        "customer_id": None,
        "work": {"resolution_code": "replaced_part", "parts": [{"code": "DRAWER-RAIL", "quantity": 1}]},
    }

    async def quoted() -> dict[str, Any] | None:
        # billing quotes a ticket once it learned it from intake's ticket.opened (422 until then, nothing
        # written); no Idempotency-Key here, which would keep that first 422 (the job's status guards reruns)
        r = await api.request("POST", "billing", "/v1/quotes", json=body, ok=(201, 422))
        return r.json() if r.status_code == 201 else None

    q = await poll(f"billing to quote {tid}", quoted)
    if q["status"] == "issued":
        await api.post(
            "billing",
            f"/v1/quotes/{q['id']}/accept",
            {"channel": "phone", "signed_name": "本人电话确认"},
            key=f"accept-{q['id']}",
            ok=(200, 409),
        )


async def settle_and_survey(api: Api, s: Story) -> None:
    tid = s.id
    inv = (
        await poll(f"the invoice of {tid}", lambda: api.get("billing", "/v1/invoices", params={"ticket_id": tid}), 40)
    )[0]
    if inv["balance_due_minor"] > 0:
        await api.post(
            "billing",
            f"/v1/invoices/{inv['id']}/payments",
            {
                "amount_minor": inv["balance_due_minor"],
                "currency": inv["currency"],
                "method": "online",
                "reference": f"WX-{tid[-8:]}",
            },
            key=f"pay-{inv['id']}",
        )
    s.note += f", invoice {inv['number']} ({inv['total_minor'] / 100:.2f} {inv['currency']}) paid"
    survey = (
        await poll(f"the survey of {tid}", lambda: api.get("survey", "/v1/surveys", params={"ticket_id": tid}), 40)
    )[0]
    if survey["status"] in ("completed", "expired", "cancelled"):
        return
    link = await survey_link(tid)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    await api.post(
        "survey",
        f"/v1/public/surveys/{token}/answers",
        {
            "scores": {"timeliness": 5, "professionalism": 5, "attitude": 5, "effectiveness": 5, "overall": 5},
            "nps": 10,
            "comment": "师傅很准时，很专业，谢谢！",
        },
        key=f"answer-{survey['id']}",
        headers={"User-Agent": "demo-customer"},
        ok=(201, 409),
    )


async def survey_link(ticket_id: str, timeout: float = 40.0) -> str:
    """The answer link the customer got: survey.sent on fixflow.survey.surveys (key = ticket id)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from fixflow_shared import topics

    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        since = int((time.time() - 3600) * 1000)
        parts: list[TopicPartition] = []
        while not parts and time.monotonic() < deadline:
            parts = [
                TopicPartition(topics.SURVEY_SURVEYS, p)
                for p in consumer.partitions_for_topic(topics.SURVEY_SURVEYS) or ()
            ]
            if not parts:
                await consumer._client.force_metadata_update()  # noqa: SLF001
                await asyncio.sleep(0.2)
        consumer.assign(parts)
        offsets = await consumer.offsets_for_times({tp: since for tp in parts})
        for tp in parts:  # start an hour back: the topic may hold a long history
            if offsets.get(tp) is not None:
                consumer.seek(tp, offsets[tp].offset)
            else:
                await consumer.seek_to_end(tp)
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for m in records:
                    h = {k: v.decode() for k, v in m.headers}
                    if h.get("ce_subject") == ticket_id and h.get("ce_type") == "fixflow.survey.survey.sent.v1":
                        return orjson.loads(m.value)["answer_url"]
        raise Refused(f"no survey.sent for {ticket_id} within {timeout:.0f} s")
    finally:
        await consumer.stop()


# ------------------------------------------------------------------------------------- the board

BOARD_CUSTOMERS = range(30, 66)  # yearly maintenance visits, placed by dispatch over the coming days
WAITING_CUSTOMERS = (120, 122, 129)  # out-of-warranty repairs waiting for the customer's consent
MAINTENANCE = ["年度保养 (yearly maintenance check)", "Yearly service, please", "清洗保养 (cleaning and service)"]


async def fill_board(api: Api, people: list[Customer]) -> tuple[int, int]:
    """A dispatcher board with a week of visits, a queue and an absence (the console's board page):
    maintenance tickets dispatch places by itself, out-of-warranty repairs waiting for consent, and
    one technician off tomorrow afternoon."""

    async def one(i: int, body: dict[str, Any]) -> bool:
        c = people[i]
        found = (await api.get("intake", "/v1/tickets", params={"customer_id": c.id, "limit": 1}))["items"]
        if found:
            return False
        await api.post(
            "intake",
            "/v1/tickets",
            {**body, "customer_id": c.id, "asset_id": c.asset_id, "locale": "en" if i % 4 == 3 else "zh-CN"},
            key=f"board-ticket-{i}",
        )
        return True

    visits = await gather(
        CONCURRENCY,
        [
            lambda i=i: one(
                i, {"kind": "maintenance", "channel": "phone", "symptom": MAINTENANCE[i % len(MAINTENANCE)]}
            )
            for i in BOARD_CUSTOMERS
        ],
    )
    waiting = await gather(
        CONCURRENCY,
        [
            lambda i=i: one(i, {"kind": "repair", "channel": "phone", "symptom": "漏水 (water leaking under the unit)"})
            for i in WAITING_CUSTOMERS
            if (TODAY - date.fromisoformat(asset_of(people[i], {m: "" for m, _, _ in PRODUCTS})["purchase_date"])).days
            > 800
        ],
    )
    techs = await api.get("dispatch", "/v1/technicians")
    off = next((t for t in techs if t["name"] == TECH_NAMES[3]), None)
    if off and not off["absences"]:
        start = datetime.combine(TODAY + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=5)  # 13:00 CST
        await api.post(
            "dispatch",
            f"/v1/technicians/{off['id']}/absences",
            {
                "start": start.isoformat(),
                "end": (start + timedelta(hours=5)).isoformat(),
                "reason": "体检 (medical check)",
            },
            key=f"absence-{off['id']}",
        )
    return sum(visits), sum(waiting)


# ------------------------------------------------------------------------------------------- main


async def main() -> int:
    t0 = time.monotonic()
    people = customers()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY * 2)) as client:
        api = Api(client)
        await setup_rules(api)
        techs, product_ids = await asyncio.gather(setup_technicians(api), setup_products(api))
        await setup_customers(api, people, product_ids)
        print(
            f"demo: fee schedule, SLA policy, survey plan, {len(techs)} technicians, {len(people)} customers with "
            f"appliances ({time.monotonic() - t0:.1f} s)"
        )
        by_customer: dict[int, str] = {}
        first = [s for s in STORIES if s.target != "complaint"]
        await gather(CONCURRENCY, [lambda s=s: story_ticket(api, s, people, by_customer) for s in first])
        by_customer.update({s.customer: s.id for s in first if s.id})
        await gather(
            CONCURRENCY,
            [lambda s=s: story_ticket(api, s, people, by_customer) for s in STORIES if s.target == "complaint"],
        )
        results = await asyncio.gather(*(drive(api, s) for s in STORIES), return_exceptions=True)
        failed = [(s, r) for s, r in zip(STORIES, results, strict=True) if isinstance(r, BaseException)]

        async def settled(s: Story) -> str:  # intake follows the other services' events: give it a moment
            deadline = time.monotonic() + 15
            while (  # noqa: ASYNC110 - polls another service's API
                (st := await ticket_status(api, s.id)) != s.target
                and s.target in TARGETS
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.3)
            return st

        states = await asyncio.gather(*(settled(s) for s in STORIES))
        print(f"demo: {len(STORIES)} tickets ({api.calls} API calls, {time.monotonic() - t0:.1f} s)")
        visits, waiting = await fill_board(api, people)
        print(f"demo: the board: {visits} maintenance visits, {waiting} repairs waiting for consent, an absence")
        for s, st in zip(STORIES, states, strict=True):
            print(f"  {s.id}  {st:<17} {s.name}" + (f"  [{s.note}]" if s.note else ""))
        for s, exc in failed:
            print(f"demo: WARNING story '{s.name}' ({s.id}) stopped early: {exc!r}", file=sys.stderr)
        f = STORIES[FEATURED]
        inv = await api.get("billing", "/v1/invoices", params={"ticket_id": f.id})
    print(f"""
Follow ticket {f.id} ({f.name}):
  ticket     curl -s -H "Authorization: Bearer $TOKEN" {URL["intake"]}/v1/tickets/{f.id}
  timeline   curl -s -H "Authorization: Bearer $TOKEN" {URL["intake"]}/v1/tickets/{f.id}/timeline
  visit      curl -s -H "Authorization: Bearer $TOKEN" {URL["dispatch"]}/v1/jobs/by-ticket/{f.id}
  messages   curl -s -H "Authorization: Bearer $TOKEN" "{URL["notify"]}/v1/deliveries?ticket_id={f.id}"
  invoice    curl -s -H "Authorization: Bearer $TOKEN" {URL["billing"]}/v1/invoices/{inv[0]["id"] if inv else "?"}   (PDF: append /pdf)
  survey     curl -s -H "Authorization: Bearer $TOKEN" "{URL["survey"]}/v1/surveys?ticket_id={f.id}"
  (TOKEN is printed below; the customer's emails are files under .local/mail/new)""")
    return 0  # a story that stopped early is reported above; the services and the data are there


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
