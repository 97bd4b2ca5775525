"""Unit of work: one database transaction holding the state change, its outgoing events (outbox)
and, for consumers, the id of the event being applied (inbox).

Where it opens (docs/adr/0010-where-a-unit-of-work-opens.md): a service-layer use case receives an
unopened unit of work, opens it with `async with uow:`, and commits it; entrypoints (routes,
consumers, timer loops) only create one (`runtime.uow()`) and hand it over. The unit of work also
carries the service's clock (`uow.clock`), the one source of "now" for the use case.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fixflow_shared.clock import SYSTEM_CLOCK, Clock
from fixflow_shared.db import set_tenant
from fixflow_shared.events.envelope import Envelope, new_envelope
from fixflow_shared.events.registry import Event
from fixflow_shared.logs import get_logger
from fixflow_shared.outbox import write_outbox
from fixflow_shared.ticket_traces import TicketTraces, ticket_scoped_ids
from fixflow_shared.tracing import current_trace_headers

log = get_logger(__name__)


class UnitOfWork:
    """`async with uow:` opens a transaction; `await uow.commit()` writes outbox rows and commits.

    Leaving the block without commit rolls everything back, events included.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        outbox: Table,
        inbox: Table,
        source: str,
        clock: Clock = SYSTEM_CLOCK,
        traces: TicketTraces | None = None,
    ) -> None:
        self._session_factory = session_factory
        # Where committed events about a ticket record its trace, so requests without a
        # traceparent join it (fixflow_shared.ticket_traces).
        self._traces = traces
        self._trace_marks: list[tuple[list[str], str]] = []
        self.clock = clock
        self._outbox = outbox
        self._inbox = inbox
        self.source = source
        self.session: AsyncSession
        self._pending: list[Envelope] = []
        self._topics: dict[str, str] = {}
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self._tenant: str | None = None
        self.committed_events: list[Envelope] = []

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        await self.session.begin()
        self._pending = []
        self._topics = {}
        self._before_commit = []
        self._tenant = None
        self._trace_marks = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def scope_to_tenant(self, tenant: str) -> None:
        if tenant != self._tenant:  # the setting lasts for the transaction: set it once per tenant
            await set_tenant(self.session, tenant)
            self._tenant = tenant

    def emit(
        self,
        payload: Event,
        *,
        subject: str,
        tenant: str,
        causation: Envelope | None = None,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Queue an event for the outbox; it is written only if this unit of work commits."""
        env = new_envelope(
            payload,
            source=self.source,
            subject=subject,
            tenant=tenant,
            correlation_id=correlation_id,
            causation=causation,
            trace_headers=current_trace_headers(),
            time=self.clock.now(),  # the CloudEvents time: when it happened, by the service's clock
        )
        self._pending.append(env)
        self._topics[env.id] = payload.topic
        traceparent = env.trace_headers.get("traceparent")
        if self._traces is not None and traceparent and (ids := ticket_scoped_ids(payload)):
            self._trace_marks.append((ids, traceparent))
        return env

    def joins_ticket_trace(self, *ids: str) -> None:
        """Ids of a ticket's resources that no event names yet (a job dispatch creates silently):
        requests naming them without a traceparent join the trace current now, the ticket's, once
        this unit of work commits (fixflow_shared.ticket_traces)."""
        traceparent = current_trace_headers().get("traceparent")
        if self._traces is not None and traceparent and ids:
            self._trace_marks.append((list(ids), traceparent))

    async def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record the event as applied by `consumer`; False if it already was (skip the effect)."""
        return envelope.id in await self.claim_many(consumer, [envelope])

    def before_commit(self, flush: Callable[[], Awaitable[None]]) -> None:
        """Run `flush` inside the transaction just before the outbox write and the commit: state kept
        in memory during a use case (and written in one batch) cannot be forgotten by a code path."""
        self._before_commit.append(flush)

    async def claim_many(self, consumer: str, envelopes: list[Envelope]) -> set[str]:
        """`claim` for a batch in one statement: the ids (as the envelopes spell them) of the events
        not applied before."""
        if not envelopes:
            return set()
        # The column holds UUIDs: a partner may spell ce_id in capitals or without hyphens.
        spelled = {uuid.UUID(e.id): e.id for e in envelopes}
        result = await self.session.execute(
            pg_insert(self._inbox).on_conflict_do_nothing().returning(self._inbox.c.event_id),
            [{"consumer": consumer, "event_id": e.id, "event_type": e.type} for e in envelopes],
        )
        return {spelled[uuid.UUID(str(r[0]))] for r in result}

    async def commit(self) -> None:
        for flush in self._before_commit:
            await flush()
        self._before_commit.clear()
        await write_outbox(self.session, self._outbox, self._pending, self._topics)
        await self.session.commit()
        self._tenant = None
        self.committed_events = list(self._pending)
        self._pending.clear()
        marks, self._trace_marks = self._trace_marks, []
        if marks and self._traces is not None:
            try:
                await self._traces.remember(marks)
            except Exception as exc:  # the commit stands; only the trace of a later request may split
                log.warning("ticket trace index not updated", error=repr(exc))

    async def rollback(self) -> None:
        await self.session.rollback()
        self._pending.clear()
        self._trace_marks.clear()
        self._before_commit.clear()
        self._tenant = None
