"""Registry of event payload models keyed by their stable CloudEvents `type` string.

Routing is by that string, never by class name. Within a major version, changes are additive
and consumers ignore unknown fields; a breaking change is a new `.vN` type published side by side.
Each additive change raises the contract's minor version (`@event(..., minor=1)`): the schema
says `"x-version": "1.1"`, and tests/contract/test_event_schemas.py refuses a changed schema
whose minor version did not move. Code names a type by its class (`TicketOpened.type`), never
by the string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

TYPE_PATTERN = re.compile(r"^fixflow\.[a-z]+(\.[a-z][a-z-]*)+\.v[0-9]+$")


class UnknownEventType(KeyError):
    pass


class Event(BaseModel):
    """Base of every event payload (the CloudEvents `data`)."""

    # Consumers ignore fields they do not know, so producers can add fields within a version.
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: ClassVar[str]
    topic: ClassVar[str]
    version: ClassVar[str]  # "<major>.<minor>" of the schema


class TicketEvent(Event):
    """An event about one ticket: `ticket_id` is also the CloudEvents subject and the Kafka key.
    Consumers that take events of many types (a timeline, notifications) narrow to this class to
    read the ticket id."""

    ticket_id: str


E = TypeVar("E", bound=type[Event])


class EventRegistry:
    def __init__(self) -> None:
        self._by_type: dict[str, type[Event]] = {}

    def register(self, type_: str, topic: str, *, minor: int = 0) -> Callable[[E], E]:
        if not TYPE_PATTERN.match(type_):
            raise ValueError(f"event type {type_!r} does not follow fixflow.<service>.<entity>.<verb>.v<N>")

        def decorate(model: E) -> E:
            if type_ in self._by_type and self._by_type[type_] is not model:
                raise ValueError(f"event type {type_!r} registered twice")
            model.type = type_
            model.topic = topic
            model.version = f"{type_.rsplit('.v', 1)[1]}.{minor}"
            self._by_type[type_] = model
            return model

        return decorate

    def model_for(self, type_: str) -> type[Event]:
        try:
            return self._by_type[type_]
        except KeyError:
            raise UnknownEventType(type_) from None

    def __contains__(self, type_: str) -> bool:
        return type_ in self._by_type

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """JSON Schema of every payload, keyed by event type (for docs and snapshot tests)."""
        return {
            t: {**m.model_json_schema(), "x-topic": m.topic, "x-version": m.version}
            for t, m in sorted(self._by_type.items())
        }


registry = EventRegistry()
event = registry.register
