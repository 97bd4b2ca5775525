"""The hub between the Kafka feed and the open pages of this process: each SSE connection
subscribes with its session's tenant and roles and gets the messages it may see, in order.

A page that cannot keep up (its queue is full) is told to reload what it shows ("resync") rather
than being sent a partial picture; a slow browser never slows the feed for others.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from console.domain.live import LiveMessage, visible


@dataclass(eq=False)
class Subscriber:
    tenant: str
    roles: frozenset[str]
    queue: asyncio.Queue[LiveMessage | None]
    overflowed: bool = False
    delivered: int = field(default=0)


class LiveHub:
    def __init__(self, queue_size: int = 500) -> None:
        self.queue_size = queue_size
        self._subs: dict[str, set[Subscriber]] = defaultdict(set)
        self.published = 0

    def subscribe(self, tenant: str, roles: frozenset[str]) -> Subscriber:
        sub = Subscriber(tenant=tenant, roles=roles, queue=asyncio.Queue(self.queue_size))
        self._subs[tenant].add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subs.get(sub.tenant)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.tenant]

    def subscribers(self, tenant: str | None = None) -> int:
        if tenant is not None:
            return len(self._subs.get(tenant, ()))
        return sum(len(s) for s in self._subs.values())

    def publish(self, msg: LiveMessage) -> int:
        """Hand the message to every subscriber of its tenant allowed to see one of its channels."""
        self.published += 1
        n = 0
        for sub in list(self._subs.get(msg.tenant, ())):
            if not any(visible(c, sub.roles) for c in msg.channels):
                continue
            try:
                sub.queue.put_nowait(msg)
                n += 1
            except asyncio.QueueFull:
                sub.overflowed = True
        return n

    def close_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                try:
                    sub.queue.put_nowait(None)
                except asyncio.QueueFull:
                    sub.overflowed = True
