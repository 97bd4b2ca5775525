"""The SLA clocks of one ticket inside a unit of work (read once, locked; written in one batch)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.uow import UnitOfWork
from intake.adapters.repository import ClockRepository
from intake.domain.model import Ticket
from intake.domain.policy import TenantPolicy
from intake.domain.sla import SlaClock


class Clocks:
    """The clocks of one ticket inside a unit of work.

    Clock rows are read once (locked) and changed in memory; new and changed rows are written in one
    batch each just before the unit of work commits, instead of a SELECT and an UPDATE per step
    (opening a ticket that waits for the customer starts and pauses three clocks: one INSERT now).
    """

    def __init__(self, uow: UnitOfWork, policy: TenantPolicy, ticket: Ticket, *, new_ticket: bool = False) -> None:
        self.uow = uow
        self.repo = ClockRepository(uow.session)
        self.policy = policy
        self.cal = policy.calendar
        self.ticket = ticket
        self.scheduled: list[tuple[str, datetime]] = []
        self.deadlines: dict[str, datetime] = {}
        # a ticket opened in this unit of work has no clock rows yet: nothing to read
        self._rows: list[dict[str, Any]] | None = [] if new_ticket else None
        self._new: dict[str, dict[str, Any]] = {}
        self._changed: dict[str, dict[str, Any]] = {}
        uow.before_commit(self.flush)

    def _cid(self, name: str) -> str:
        return f"{self.ticket.id}:{name}:{self.ticket.round}"

    async def _current(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = await self.repo.for_ticket(self.ticket.tenant_id, self.ticket.id, for_update=True)
        return self._rows

    async def start(self, names: Iterable[str], now: datetime, *, paused: bool = False) -> None:
        rows = await self._current()
        known = {r["id"] for r in rows}
        in_province = (self.ticket.site or {}).get("in_province")
        for name in names:
            clock = SlaClock(
                name,
                self.policy.sla.target(name, priority=self.ticket.priority, in_province=in_province),
                now,
                at_risk_share=self.policy.sla.at_risk_share,
            )
            due = clock.due_at(self.cal)
            self.deadlines[name] = due
            if paused:
                clock.pause(now)
            nxt = clock.next_check(self.cal)
            cid = self._cid(name)
            if cid in known:  # started already in this round: the stored clock stands
                continue
            row = ClockRepository.new_row(
                clock_id=cid,
                tenant_id=self.ticket.tenant_id,
                ticket_id=self.ticket.id,
                round_=self.ticket.round,
                kind=self.ticket.kind,
                priority=self.ticket.priority,
                clock=clock,
                due_at=due,
                next_check=nxt,
                trace_headers=self.ticket.trace_headers,
            )
            rows.append(row)
            self._new[cid] = row
            if nxt:
                self.scheduled.append((cid, nxt))

    def _set(self, row: dict[str, Any], state: dict[str, Any]) -> None:
        row.update(state)
        if row["id"] not in self._new:
            self._changed[row["id"]] = row

    async def change(
        self,
        now: datetime,
        *,
        pause: bool = False,
        resume: bool = False,
        stop: Iterable[str] = (),
        stop_all: bool = False,
        void: bool = False,
    ) -> dict[str, bool | None]:
        """Pause/resume/stop; returns {clock name: met} for clocks stopped now."""
        stop = set(stop)
        result: dict[str, bool | None] = {}
        for row in await self._current():
            if row["stopped_at"] is not None:
                continue
            clock = ClockRepository.to_domain(row)
            if stop_all or row["name"] in stop:
                clock.stop(self.cal, now)
                met = None if void else clock.met(self.cal)
                result[row["name"]] = met
                self._set(row, ClockRepository.state(clock, row["due_at"], None, met))
                if met is not None:
                    self._stopped(row, clock, met)
                continue
            if pause:
                clock.pause(now)
            if resume:
                clock.resume(self.cal, now)
            nxt = clock.next_check(self.cal)
            due = clock.due_at(self.cal)
            self.deadlines[row["name"]] = due
            self._set(row, ClockRepository.state(clock, due, nxt, None))
            if nxt:
                self.scheduled.append((row["id"], nxt))
        return result

    def _stopped(self, row: dict[str, Any], clock: SlaClock, met: bool) -> None:
        """The verdict of a stopped clock, as an event: reports recompute attainment from these."""
        assert clock.stopped_at is not None
        self.uow.emit(
            ev.SlaClockStopped(
                ticket_id=self.ticket.id,
                tenant_id=self.ticket.tenant_id,
                clock=row["name"],
                priority=row["priority"],
                kind=row["kind"],
                round=row["round"],
                started_at=clock.started_at,
                stopped_at=clock.stopped_at,
                due_at=row["due_at"],
                target_s=clock.target.total_seconds(),
                elapsed_s=clock.elapsed(self.cal, clock.stopped_at).total_seconds(),
                met=met,
            ),
            subject=self.ticket.id,
            tenant=self.ticket.tenant_id,
        )

    async def flush(self) -> None:
        await self.repo.add_many(list(self._new.values()))
        await self.repo.update_many(list(self._changed.values()))
        self._new.clear()
        self._changed.clear()
