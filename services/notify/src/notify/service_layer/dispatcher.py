"""Sending: a queue of leased deliveries served by a few workers, retries with exponential backoff
and jitter (tenacity), failover to the next provider, dead letter with reason, and three ways a
delivery reaches a worker:

- at once, after the planning transaction commits (the common path);
- through the due-timer wheel (fixflow_shared.timers) when a deferred delivery's time comes
  (quiet hours, rate limit);
- through the sweep, for pending rows whose lease ran out: the process that planned or leased
  them died (between commit and send, or between send and mark: the duplicate window).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from fixflow_shared.clock import Clock
from fixflow_shared.events.contracts.notify import DeliveryDeferred, DeliveryFailed, DeliverySent
from fixflow_shared.logs import get_logger
from fixflow_shared.timers import DueTimerWheel, run_timer_loop
from fixflow_shared.tracing import continue_trace
from fixflow_shared.uow import UnitOfWork
from notify.adapters.channels import Outgoing, PermanentSendError, Provider, TransientSendError
from notify.adapters.ratelimit import TenantRateLimiter
from notify.adapters.repository import Attempt, NotifyRepository
from notify.domain.model import Channel, Delivery, DeliveryStatus

log = get_logger(__name__)


@dataclass
class Outcome:
    delivery: Delivery
    status: DeliveryStatus
    attempts: list[Attempt]
    provider: str | None
    error: str | None
    sent_at: datetime | None


def in_trace(d: Delivery, name: str) -> contextlib.AbstractContextManager[object]:
    """Resume the trace of the event that planned `d` (sending and marking run in other tasks),
    so what is emitted here stays in the ticket's one trace."""
    if not d.trace_headers:
        return contextlib.nullcontext()
    return continue_trace(d.trace_headers, name, **{"fixflow.delivery_id": d.id, "fixflow.channel": d.channel.value})


class SendFailed(Exception):
    def __init__(self, reason: str, attempts: list[Attempt]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


async def send_with_failover(
    providers: Sequence[Provider], msg: Outgoing, *, max_attempts: int, backoff_initial_s: float, backoff_max_s: float
) -> tuple[str, list[Attempt]]:
    """Try each provider up to `max_attempts` times (backoff with jitter), in order.
    Returns the provider that took the message and every attempt; raises SendFailed."""
    attempts: list[Attempt] = []
    last = "no provider configured"
    for index, provider in enumerate(providers):
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(max_attempts),
                wait=wait_exponential_jitter(initial=backoff_initial_s, max=backoff_max_s),
                retry=retry_if_exception_type(TransientSendError),
                reraise=True,
            ):
                with attempt:
                    try:
                        await provider.send(msg)
                    except TransientSendError as exc:
                        final = attempt.retry_state.attempt_number >= max_attempts
                        outcome = ("failover" if index + 1 < len(providers) else "failed") if final else "retry"
                        attempts.append(Attempt(len(attempts) + 1, provider.name, outcome, str(exc)[:500]))
                        raise
                    except PermanentSendError as exc:
                        attempts.append(Attempt(len(attempts) + 1, provider.name, "failed", str(exc)[:500]))
                        raise
            attempts.append(Attempt(len(attempts) + 1, provider.name, "ok"))
            return provider.name, attempts
        except TransientSendError as exc:
            last = f"{provider.name}: {exc}"
            log.warning("provider exhausted, trying the next", provider=provider.name, delivery_id=msg.delivery_id)
        except PermanentSendError as exc:
            raise SendFailed(f"refused by {provider.name}: {exc}", attempts) from exc
    raise SendFailed(f"all providers failed; last: {last}", attempts)


class Dispatcher:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        providers: dict[Channel, list[Provider]],
        limiter: TenantRateLimiter,
        wheel: DueTimerWheel,
        workers: int = 8,
        max_attempts: int = 3,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        sweep_interval_s: float = 1.0,
        lease_s: float = 60.0,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.clock = clock
        self.providers = providers
        self.limiter = limiter
        self.wheel = wheel
        self._workers = workers
        self._retry = (max_attempts, backoff_initial_s, backoff_max_s)
        self._sweep_interval = sweep_interval_s
        self.lease_s = lease_s
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._marks: asyncio.Queue[Outcome] = asyncio.Queue()
        self.mark_batch = 200
        # Ids this process holds (queued, sending, or sent and waiting for their mark): their
        # leases are renewed so that no sweep, here or in another replica, takes them over while
        # a backlog keeps them waiting longer than one lease.
        self._held: set[str] = set()
        self.sent = 0
        self.failed = 0

    @property
    def retry(self) -> tuple[int, float, float]:
        """(attempts per provider, first backoff, longest backoff): for a message sent at once."""
        return self._retry

    @property
    def available(self) -> frozenset[Channel]:
        return frozenset(c for c, ps in self.providers.items() if ps) | {Channel.IN_APP}

    def submit(self, items: Sequence[Delivery]) -> None:
        for d in items:
            if d.id in self._held:
                continue  # already queued here
            self._held.add(d.id)
            self._queue.put_nowait(d)

    async def schedule_deferred(self, items: Sequence[Delivery]) -> None:
        with contextlib.suppress(Exception):  # the wheel is re-seeded from the database anyway
            await self.wheel.schedule_many([(d.id, d.not_before) for d in items if d.not_before])

    # --- loops -------------------------------------------------------------------------------------
    async def run(self) -> None:
        tasks = [asyncio.create_task(self._worker(), name=f"notify-send-{i}") for i in range(self._workers)]
        tasks.append(asyncio.create_task(self._sweep_loop(), name="notify-sweep"))
        tasks.append(asyncio.create_task(self._mark_loop(), name="notify-mark"))
        tasks.append(asyncio.create_task(self._renew_loop(), name="notify-lease"))
        tasks.append(
            asyncio.create_task(
                run_timer_loop(
                    self.wheel,
                    fire=self._fire,
                    reseed=self._reseed,
                    poll_s=self._sweep_interval,
                    reseed_every_s=30.0,
                    retry_after_s=2.0,
                    clock=self.clock,
                ),
                name="notify-deferred",
            )
        )
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            d = await self._queue.get()
            try:
                status = await self.deliver(d)
                if status not in (DeliveryStatus.SENT, DeliveryStatus.FAILED) or d.channel == Channel.IN_APP:
                    self._held.discard(d.id)  # finished inline; SENT/FAILED go when their mark is written
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the lease runs out and the sweep retries it
                self._held.discard(d.id)
                log.warning("delivery crashed; left for the sweep", delivery_id=d.id, error=repr(exc))
            finally:
                self._queue.task_done()

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sweep failed", error=repr(exc))
            await asyncio.sleep(self._sweep_interval)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self.renew_leases()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lease may run out: the row can then be sent twice
                log.warning("renewing delivery leases failed", held=len(self._held), error=repr(exc))

    async def renew_leases(self) -> int:
        held = list(self._held)
        if not held:
            return 0
        async with self._uow() as uow:
            n = await NotifyRepository(uow.session).renew_leases(held, lease_s=self.lease_s)
            await uow.commit()
        return n

    async def sweep(self, limit: int = 200) -> int:
        """Lease and queue due deliveries whose lease ran out (crash recovery, late deferred)."""
        async with self._uow() as uow:
            found = await NotifyRepository(uow.session).claim_due(limit=limit, lease_s=self.lease_s)
            await uow.commit()
        if found:
            log.info("sweep picked up deliveries", count=len(found))
        self.submit(found)
        return len(found)

    async def _fire(self, delivery_id: str) -> None:
        async with self._uow() as uow:
            found = await NotifyRepository(uow.session).claim_due(limit=1, lease_s=self.lease_s, ids=[delivery_id])
            await uow.commit()
        self.submit(found)

    async def _reseed(self) -> list[tuple[str, datetime]]:
        async with self._uow() as uow:
            return await NotifyRepository(uow.session).pending_due_times()

    # --- one delivery ------------------------------------------------------------------------------
    async def deliver(self, d: Delivery) -> DeliveryStatus:
        with in_trace(d, "notify.deliver"):
            return await self._deliver(d)

    async def _deliver(self, d: Delivery) -> DeliveryStatus:
        now = self.clock.now()
        if d.channel != Channel.IN_APP:
            later = await self.limiter.acquire(d.tenant_id, d.channel.value, now)
            if later is not None:
                await self._finish(d, DeliveryStatus.DEFERRED, [], None, "rate limited", not_before=later)
                await self.schedule_deferred([d])
                return DeliveryStatus.DEFERRED
        if d.channel == Channel.IN_APP:
            # The feed row is written in the same transaction as the mark: exactly once.
            await self._finish(d, DeliveryStatus.SENT, [Attempt(1, "in_app", "ok")], "in_app", None, sent_at=now)
            return DeliveryStatus.SENT
        msg = Outgoing(
            delivery_id=d.id,
            tenant_id=d.tenant_id,
            ticket_id=d.ticket_id,
            recipient=d.recipient,
            subject=d.subject,
            body=d.body,
            event_type=d.trigger_event_type,
        )
        max_attempts, initial, cap = self._retry
        try:
            provider, attempts = await send_with_failover(
                self.providers.get(d.channel, []),
                msg,
                max_attempts=max_attempts,
                backoff_initial_s=initial,
                backoff_max_s=cap,
            )
        except SendFailed as exc:
            await self._mark(Outcome(d, DeliveryStatus.FAILED, exc.attempts, None, exc.reason, None))
            self.failed += 1
            log.warning(
                "delivery failed",
                delivery_id=d.id,
                channel=d.channel.value,
                recipient=d.masked_recipient,
                reason=exc.reason,
            )
            return DeliveryStatus.FAILED
        # <- a crash here (sent, not yet marked) is the only duplicate window: see handlers.py
        await self._mark(Outcome(d, DeliveryStatus.SENT, attempts, provider, None, self.clock.now()))
        self.sent += 1
        return DeliveryStatus.SENT

    # --- marking in batches (group commit) ------------------------------------------------------
    async def _mark(self, outcome: Outcome) -> None:
        """Hand the outcome to the marker, which records many in one transaction. The worker moves
        on to its next send; the lease keeps a sweep away until the mark is written."""
        await self._marks.put(outcome)

    async def _mark_loop(self) -> None:
        while True:
            batch = [await self._marks.get()]
            try:
                while len(batch) < self.mark_batch and not self._marks.empty():
                    batch.append(self._marks.get_nowait())
                await self._write_marks_patiently(batch)
                for o in batch:
                    self._held.discard(o.delivery.id)
            except asyncio.CancelledError:
                while not self._marks.empty():  # shutting down: record what was sent
                    batch.append(self._marks.get_nowait())
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._write_marks(batch))
                raise
            except Exception as exc:  # not marked: the lease runs out and the sweep resends
                for o in batch:
                    self._held.discard(o.delivery.id)
                log.warning("marking deliveries failed", count=len(batch), error=repr(exc))

    async def _write_marks_patiently(self, batch: list[Outcome]) -> None:
        """Write the marks, retrying a failure for up to half a lease: these messages are already
        sent, and a mark given up on makes the sweep send them again once the lease runs out (a
        database restart sent every email of the batch in flight twice). The ids stay held
        meanwhile, so their leases are renewed once the database is back."""
        deadline = time.monotonic() + self.lease_s / 2
        pause = 0.1
        while True:
            try:
                await self._write_marks(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("marking deliveries failed; retrying", count=len(batch), error=repr(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _write_marks(self, batch: list[Outcome]) -> None:
        async with self._uow() as uow:
            repo = NotifyRepository(uow.session)
            updated = await repo.finish_many(batch)
            for o in batch:
                d = o.delivery
                if d.id not in updated:
                    continue  # finished elsewhere (a sweep after a lease ran out): no second event
                d.attempts = updated[d.id]
                d.status = o.status
                common = dict(
                    delivery_id=d.id,
                    ticket_id=d.ticket_id,
                    channel=d.channel.value,
                    template=d.template,
                    trigger_event_type=d.trigger_event_type,
                    trigger_event_id=d.trigger_event_id,
                    audience=d.audience,
                    recipient_masked=d.masked_recipient,
                )
                with in_trace(d, "notify.mark"):
                    if o.status == DeliveryStatus.SENT:
                        uow.emit(
                            DeliverySent(sent_at=o.sent_at, attempts=d.attempts, provider=o.provider, **common),  # type: ignore[arg-type]
                            subject=d.ticket_id or d.id,
                            tenant=d.tenant_id,
                        )
                    else:
                        uow.emit(
                            DeliveryFailed(
                                reason=o.error or "failed",
                                attempts=d.attempts,  # type: ignore[arg-type]
                                failed_at=uow.clock.now(),
                                **common,
                            ),
                            subject=d.ticket_id or d.id,
                            tenant=d.tenant_id,
                        )
            await uow.commit()

    async def _finish(
        self,
        d: Delivery,
        status: DeliveryStatus,
        attempts: list[Attempt],
        provider: str | None,
        error: str | None,
        *,
        sent_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> None:
        async with self._uow() as uow:
            await uow.scope_to_tenant(d.tenant_id)
            repo = NotifyRepository(uow.session)
            if not await repo.finish(
                d,
                status=status,
                attempts=attempts,
                provider=provider,
                error=error,
                sent_at=sent_at,
                not_before=not_before,
            ):
                return  # finished elsewhere (a sweep after a lease ran out): no second event
            common = dict(
                delivery_id=d.id,
                ticket_id=d.ticket_id,
                channel=d.channel.value,
                template=d.template,
                trigger_event_type=d.trigger_event_type,
                trigger_event_id=d.trigger_event_id,
                audience=d.audience,
                recipient_masked=d.masked_recipient,
            )
            if status == DeliveryStatus.SENT:
                if d.channel == Channel.IN_APP:
                    await repo.add_feed_item(d)
                uow.emit(
                    DeliverySent(sent_at=sent_at, attempts=d.attempts, provider=provider, **common),  # type: ignore[arg-type]
                    subject=d.ticket_id or d.id,
                    tenant=d.tenant_id,
                )
            elif status == DeliveryStatus.FAILED:
                uow.emit(
                    DeliveryFailed(reason=error or "failed", attempts=d.attempts, failed_at=uow.clock.now(), **common),  # type: ignore[arg-type]
                    subject=d.ticket_id or d.id,
                    tenant=d.tenant_id,
                )
            elif status == DeliveryStatus.DEFERRED:
                uow.emit(
                    DeliveryDeferred(reason="rate_limited", not_before=not_before, **common),  # type: ignore[arg-type]
                    subject=d.ticket_id or d.id,
                    tenant=d.tenant_id,
                )
            await uow.commit()
        d.status = status
