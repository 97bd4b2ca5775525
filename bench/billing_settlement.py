"""Billing settlement benchmark: completed work orders priced and settled into invoices (gapless
numbers, outbox rows, inbox claims) through the service layer against the real PostgreSQL.

No HTTP and no broker: each settlement is `settlement.settle_work_order` with an inbox claim, exactly
what the work-order.completed consumer runs. A throw-away database is created and migrated, then:

1. sequential: N settlements one after another (the latency of one settlement alone);
2. concurrent: N settlements with C in flight (one tenant, so every invoice queues on the tenant's
   counter row: that serialisation is the price of gapless numbers), then the same over 8 tenants;
3. out of order: N completions parked before their ticket.opened, then settled by the facts;
4. the 200-parallel issuance of the must-show test: 200 at once, numbers checked gapless.

Work mix per settlement (cycled): adjustment (invoice 40 CNY), second-visit part replacement
(invoice), in-warranty quality repair (charge.waived), reinstall (invoice).

    .venv/bin/python bench/billing_settlement.py [--n 2000] [--concurrency 16]

Needs the local PostgreSQL (deploy/local/infra.sh start-stores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))
sys.path.insert(0, str(ROOT / "services" / "billing" / "src"))

from sqlalchemy import select  # noqa: E402

from billing.adapters.orm import inbox, invoices, outbox, waived_charges  # noqa: E402
from billing.domain.commands import SettleWorkOrder  # noqa: E402
from billing.entrypoints.consumers import work_done_from  # noqa: E402
from billing.service_layer import settlement  # noqa: E402
from fixflow_shared.db import make_engine, make_session_factory  # noqa: E402
from fixflow_shared.events import new_envelope  # noqa: E402
from fixflow_shared.events.contracts.dispatch import CustomerSignOff, PartLine, WorkOrderCompleted  # noqa: E402
from fixflow_shared.events.contracts.intake import TicketOpened  # noqa: E402
from fixflow_shared.migrations import upgrade  # noqa: E402
from fixflow_shared.uow import UnitOfWork  # noqa: E402

PG = "postgresql://billing:billing@127.0.0.1:5432/billing"
MIX = [
    ("adjusted", [], 1, "out_of_warranty"),
    ("part_replaced", [PartLine(part_code="HINGE-35", quantity=1)], 2, "out_of_warranty"),
    ("quality_defect_fixed", [], 1, "in_warranty"),
    ("reinstalled", [], 1, "out_of_warranty"),
]


class Bench:
    def __init__(self, url: str, pool: int) -> None:
        self.engine = make_engine(url, pool_size=pool)
        self.sf = make_session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sf, outbox=outbox, inbox=inbox, source="/fixflow/billing")

    async def facts(self, tenant: str, ticket: str, warranty: str) -> None:
        env = new_envelope(
            TicketOpened(
                ticket_id=ticket,
                tenant_id=tenant,
                customer_id=f"cust-{ticket[-3:]}",
                kind="repair",
                channel="phone",
                symptom="bench",
                warranty_status=warranty,
                opened_at=datetime.now(UTC),
            ),
            source="/fixflow/intake",
            subject=ticket,
            tenant=tenant,
        )
        await settlement.record_ticket_facts(uow=self.uow(), envelope=env, event=env.payload())

    def completion(self, tenant: str, i: int):  # type: ignore[no-untyped-def]
        code, parts, visit, _ = MIX[i % len(MIX)]
        ticket, now = f"tkt_{tenant}_{i:06d}", datetime.now(UTC)
        event = WorkOrderCompleted(
            ticket_id=ticket,
            tenant_id=tenant,
            work_order_id=f"wo_{i:06d}",
            job_id=f"job_{i}",
            technician_id="tech",
            visit_number=visit,
            parts_used=parts,
            labour_minutes=30,
            resolution_code=code,
            sign_off=CustomerSignOff(signed_by="Li", signed_at=now, signature_sha256="0" * 64),
            first_time_fix=True,
            completed_at=now,
        )
        env = new_envelope(event, source="/fixflow/dispatch", subject=ticket, tenant=tenant)
        return env, SettleWorkOrder(
            tenant_id=tenant,
            ticket_id=ticket,
            work_order_id=event.work_order_id,
            work=work_done_from(env, event),
            completed_at=now,
        )

    async def prepare(self, tenant: str, n: int) -> None:
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                await self.facts(tenant, f"tkt_{tenant}_{i:06d}", MIX[i % len(MIX)][3])

        await asyncio.gather(*(one(i) for i in range(n)))

    async def settle(self, tenant: str, i: int) -> float:
        env, cmd = self.completion(tenant, i)
        t0 = time.perf_counter()
        s = await settlement.settle_work_order(
            uow=self.uow(), cmd=cmd, causation=env, consumer="billing.work_order_completed"
        )
        dt = time.perf_counter() - t0
        assert s is not None and s.parked is None, s
        return dt

    async def run(self, tenant: str, n: int, concurrency: int) -> tuple[float, list[float]]:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> float:
            async with sem:
                return await self.settle(tenant, i)

        t0 = time.perf_counter()
        lat = await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0, list(lat)

    async def check(self, tenant: str) -> tuple[int, int, bool]:
        uow = self.uow()
        async with uow:
            await uow.scope_to_tenant(tenant)
            seqs = sorted(
                (await uow.session.execute(select(invoices.c.seq).where(invoices.c.tenant_id == tenant)))
                .scalars()
                .all()
            )
            waived = len(
                (
                    await uow.session.execute(select(waived_charges.c.id).where(waived_charges.c.tenant_id == tenant))
                ).all()
            )
        return len(seqs), waived, seqs == list(range(1, len(seqs) + 1))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def report(name: str, n: int, wall: float, lat: list[float], check: tuple[int, int, bool]) -> None:
    inv, waived, gapless = check
    print(
        f"{name:<34} n={n:<5} {n / wall:8.1f} settlements/s  {inv / wall:8.1f} invoices/s  "
        f"p50 {pct(lat, 50):7.1f} ms  p99 {pct(lat, 99):7.1f} ms  mean {statistics.mean(lat) * 1000:6.1f} ms  "
        f"invoices={inv} waived={waived} gapless={gapless}"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--pool", type=int, default=20)
    args = ap.parse_args()

    name = f"billing_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://billing:billing@127.0.0.1:5432/{name}"
    try:
        await asyncio.to_thread(upgrade, ROOT / "services" / "billing", url)
        b = Bench(url, args.pool)
        n = args.n
        print(f"billing settlement benchmark: database {name}, pool {args.pool} (+{args.pool} overflow)")

        t = "seq"
        await b.prepare(t, n)
        wall, lat = await b.run(t, n, 1)
        report("sequential (1 in flight)", n, wall, lat, await b.check(t))

        t = "conc"
        await b.prepare(t, n)
        wall, lat = await b.run(t, n, args.concurrency)
        report(f"concurrent ({args.concurrency} in flight)", n, wall, lat, await b.check(t))

        # the same load spread over 8 tenants: each tenant's counter is its own queue
        tenants = [f"mt{k}" for k in range(8)]
        for t in tenants:
            await b.prepare(t, n // 8)
        sem = asyncio.Semaphore(args.concurrency)

        async def one_mt(i: int) -> float:
            async with sem:
                return await b.settle(tenants[i % 8], i // 8)

        t0 = time.perf_counter()
        lat = list(await asyncio.gather(*(one_mt(i) for i in range(n // 8 * 8))))
        wall = time.perf_counter() - t0
        checks = [await b.check(t) for t in tenants]
        report(
            f"concurrent ({args.concurrency} in flight, 8 tenants)",
            n // 8 * 8,
            wall,
            lat,
            (sum(c[0] for c in checks), sum(c[1] for c in checks), all(c[2] for c in checks)),
        )

        # out of order: completions first (parked), then ticket.opened settles each
        t = "park"
        t0 = time.perf_counter()
        for i in range(n):
            env, cmd = b.completion(t, i)
            s = await settlement.settle_work_order(
                uow=b.uow(), cmd=cmd, causation=env, consumer="billing.work_order_completed"
            )
            assert s is not None and s.parked == "ticket_facts"
        park_wall = time.perf_counter() - t0
        lat = []
        t0 = time.perf_counter()
        for i in range(n):
            t1 = time.perf_counter()
            await b.facts(t, f"tkt_{t}_{i:06d}", MIX[i % len(MIX)][3])
            lat.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t0
        print(f"{'parking (completion first)':<34} n={n:<5} {n / park_wall:8.1f} parked/s")
        report("settled by ticket.opened", n, wall, lat, await b.check(t))

        # the must-show: 200 parallel issuances, all at once
        for rnd in range(3):
            t = f"p200_{rnd}"
            await b.prepare(t, 200)
            wall, lat = await b.run(t, 200, 200)
            report(f"200 parallel issuances (run {rnd + 1})", 200, wall, lat, await b.check(t))
            print(f"{'':<34} 200 parallel: {wall * 1000:.0f} ms wall")
        await b.engine.dispose()
    finally:
        conn = await asyncpg.connect(PG)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
