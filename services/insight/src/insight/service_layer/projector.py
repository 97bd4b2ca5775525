"""Applying a batch of events to the projections, in one transaction (live and during a rebuild).

1. Claim the events in the inbox (a redelivered event is skipped) and lock their tenants.
2. Load the facts they touch, and what those depend on (a ticket's asset for repeat repairs, an
   asset's tickets, a parts request's ticket), in a few rounds.
3. Contributions before, merge the events, contributions after; add the difference to the daily
   aggregates; rewrite the quality faults of the tickets that changed.
4. Evaluate the quality rules for the keys whose faults changed; raise alerts through the outbox.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select

from fixflow_shared.events import Envelope, Event
from fixflow_shared.events.contracts import notify, survey
from fixflow_shared.events.contracts.insight import QualityAlertRaised
from fixflow_shared.uow import UnitOfWork
from insight.adapters import quality_store
from insight.adapters.orm import quality_rules
from insight.adapters.repository import ProjectionRepository
from insight.domain import contributions as c
from insight.domain import facts as F
from insight.domain import quality as Q

CONSUMER = "insight.projection"


@dataclass
class Applied:
    events: int = 0
    new_tenants: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


def _direct_rows(envelope: Envelope, payload: Event) -> list[c.Row]:
    """Events that stand alone: their contribution depends on nothing else."""
    if isinstance(payload, survey.RevisitDue):
        return c.revisit_due_rows(payload.due_on)
    if isinstance(payload, survey.RevisitCompleted):
        return c.revisit_done_rows(payload.due_on, payload.completed_at.astimezone(UTC).date())
    if isinstance(payload, notify.DeliverySent):
        return c.delivery_rows(payload.sent_at.astimezone(UTC).date(), payload.channel, sent=True)
    if isinstance(payload, notify.DeliveryFailed):
        return c.delivery_rows((payload.failed_at or envelope.time).astimezone(UTC).date(), payload.channel, sent=False)
    return []


class _TenantBatch:
    def __init__(self, repo: ProjectionRepository, tenant: str) -> None:
        self.repo, self.tenant = repo, tenant
        self.rows: dict[str, F.Facts] = {}

    async def load(self, keys: set[str]) -> None:
        missing = keys - set(self.rows)
        if missing:
            found = await self.repo.load(self.tenant, missing)
            for k in missing:
                self.rows[k] = found.get(k, {})

    def _dependents(self) -> set[str]:
        keys: set[str] = set()
        for k, f in self.rows.items():
            if k.startswith("t:") and f.get("asset_id"):
                keys.add(F.asset_key(f["asset_id"]))
            elif k.startswith("a:"):
                keys |= {F.ticket_key(t) for t in f.get("tickets", {})}
            elif k.startswith("p:") and f.get("ticket_id"):
                keys.add(F.ticket_key(f["ticket_id"]))
        return keys

    async def load_with_dependents(self, keys: set[str]) -> None:
        await self.load(keys)
        for _ in range(2):  # tickets -> their assets and parts -> those assets' tickets
            await self.load(self._dependents())

    def contributions(self) -> dict[str, Counter[c.Row]]:
        """Each ticket's contributions as a multiset, to subtract the old from the new per ticket."""
        out: dict[str, Counter[c.Row]] = {}
        for k, f in self.rows.items():
            if k.startswith("t:") and f:
                asset = self.rows.get(F.asset_key(f["asset_id"])) if f.get("asset_id") else None
                out[k] = Counter(c.ticket_rows(f, asset))
        return out

    def faults(self) -> dict[str, set[Q.Fault]]:
        return {k[2:]: Q.faults_of(k[2:], f) for k, f in self.rows.items() if k.startswith("t:") and f}


async def apply_batch(uow: UnitOfWork, batch: list[tuple[Envelope, Any]], *, consumer: str = CONSUMER) -> Applied:
    """Apply the events (any order, duplicates allowed) and commit; see the module docstring."""
    applied = Applied()
    async with uow:
        fresh = await uow.claim_many(consumer, [e for e, _ in batch])
        items = [(e, p) for e, p in batch if e.id in fresh]
        if items:
            repo = ProjectionRepository(uow.session)
            by_tenant: dict[str, list[tuple[Envelope, Any]]] = defaultdict(list)
            for e, p in items:
                by_tenant[e.tenantid].append((e, p))
            await repo.lock_tenants(by_tenant)
            for tenant, events in sorted(by_tenant.items()):
                applied.alerts += await _apply_tenant(uow, repo, tenant, events)
            applied.new_tenants = await repo.seen_tenants(
                {t: min(e.time for e, _ in evs) for t, evs in by_tenant.items()}
            )
            applied.events = len(items)
        await uow.commit()
    return applied


async def _apply_tenant(
    uow: UnitOfWork, repo: ProjectionRepository, tenant: str, events: list[tuple[Envelope, Any]]
) -> list[str]:
    tb = _TenantBatch(repo, tenant)
    await tb.load_with_dependents({k for _, p in events for k in F.keys_of(p)})
    before_rows, before_faults = tb.contributions(), tb.faults()
    loaded = F.Loaded(tb.rows)
    direct: list[c.Row] = []
    for e, p in events:
        F.merge(loaded, e.id, p)
        direct.extend(_direct_rows(e, p))
    await tb.load_with_dependents(set(tb.rows))  # assets and tickets the merge linked just now
    # Only what changed reaches the aggregates: a ticket's unchanged rows cancel out here, not in SQL.
    removed: list[c.Row] = []
    added: list[c.Row] = list(direct)
    for key, now in tb.contributions().items():
        was = before_rows.get(key, Counter())
        if now != was:
            removed.extend((was - now).elements())
            added.extend((now - was).elements())
    delta = c.aggregate(removed, sign=-1)
    c.aggregate(added, into=delta)
    await repo.add_aggregates(tenant, delta)
    await repo.save(tenant, {k: tb.rows[k] for k in loaded.touched if tb.rows.get(k)})
    after_faults = tb.faults()
    changed = {t for t, now in after_faults.items() if now != before_faults.get(t, set())}
    if not changed:
        return []
    await repo.replace_faults(tenant, changed, set().union(*(after_faults[t] for t in changed)))
    new = set().union(*(after_faults[t] - before_faults.get(t, set()) for t in changed))
    return await raise_alerts(uow, tenant, new)


async def raise_alerts(uow: UnitOfWork, tenant: str, faults: set[Q.Fault]) -> list[str]:
    """Evaluate the tenant's rules for the keys of these (new) faults; raise what breaches. One
    query per rule for all the keys, one insert per table for all the alerts."""
    if not faults:
        return []
    await uow.scope_to_tenant(tenant)
    config = await uow.session.scalar(select(quality_rules.c.rules).where(quality_rules.c.tenant_id == tenant))
    breaches: list[Q.Breach] = []
    for rule in Q.rules_from(config):
        mine = [f for f in faults if f[0] == rule.dimension]
        if not mine:
            continue
        # only windows that can hold one of these faults: within window_days of their days
        reach = timedelta(days=rule.window_days - 1)
        since, until = min(f[2] for f in mine) - reach, max(f[2] for f in mine) + reach
        keys = sorted({f[1] for f in mine})
        pending = await quality_store.unreported_faults(uow.session, tenant, rule, keys, since=since, until=until)
        for key in sorted(pending):
            breach = Q.evaluate(rule, key, pending[key])
            if breach is not None:
                breaches.append(breach)
    if not breaches:
        return []
    now = uow.clock.now()
    raised = [("QA-" + uuid.uuid4().hex[:16], b) for b in breaches]
    await quality_store.add_alerts(uow.session, tenant, raised, now)
    for alert_id, b in raised:
        uow.emit(
            QualityAlertRaised(
                alert_id=alert_id,
                tenant_id=tenant,
                rule_id=b.rule.id,
                dimension=b.rule.dimension,  # type: ignore[arg-type]
                key=b.key,
                window_days=b.rule.window_days,
                threshold=b.rule.threshold,
                count=len(b.ticket_ids),
                window_start=b.window_start,
                window_end=b.window_end,
                ticket_ids=list(b.ticket_ids[: Q.EVIDENCE_IN_EVENT]),
                raised_at=now,
            ),
            subject=alert_id,
            tenant=tenant,
        )
    return [alert_id for alert_id, _ in raised]
