"""CloudEvents 1.0 over Kafka in binary content mode: attributes in `ce_*` headers, body = data.

Extensions: tenantid, correlationid (= ticket id), causationid (the event that caused this one).
W3C trace context travels beside them in `traceparent` / `tracestate` headers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from fixflow_shared.events.registry import Event, registry

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_REQUIRED = ("id", "source", "type", "time", "subject", "specversion", "tenantid")


class InvalidEnvelope(ValueError):
    """A message that can never be processed (bad headers, bad JSON, bad payload)."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str
    tenantid: str
    time: datetime
    data: dict[str, Any]
    correlationid: str | None = None
    causationid: str | None = None
    datacontenttype: str = CONTENT_TYPE
    specversion: str = SPECVERSION
    trace_headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> bytes:
        """Partition key: the ticket id keeps one ticket's events in order."""
        return (self.correlationid or self.subject).encode()

    def body(self) -> bytes:
        return orjson.dumps(self.data)

    def headers(self) -> list[tuple[str, bytes]]:
        attrs = {
            "ce_specversion": self.specversion,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_tenantid": self.tenantid,
            "content-type": self.datacontenttype,
        }
        if self.correlationid:
            attrs["ce_correlationid"] = self.correlationid
        if self.causationid:
            attrs["ce_causationid"] = self.causationid
        attrs.update(self.trace_headers)
        return [(k, v.encode()) for k, v in attrs.items()]

    def payload(self) -> Event:
        """The typed payload; raises InvalidEnvelope if the data does not fit the contract.

        Consumers ignore fields they do not know (producers may be a minor version ahead). With
        FIXFLOW_STRICT_CONTRACTS set (tests), a field the contract does not declare is refused."""
        model = registry.model_for(self.type)
        if os.environ.get("FIXFLOW_STRICT_CONTRACTS", "0") not in ("", "0", "false"):
            undeclared = sorted(set(self.data) - set(model.model_fields))
            if undeclared:
                raise InvalidEnvelope(f"payload of {self.type} carries undeclared fields {undeclared}")
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise InvalidEnvelope(f"payload does not match {self.type}: {exc.errors()[:3]}") from exc

    @classmethod
    def from_kafka(cls, headers: Iterable[tuple[str, bytes]] | Mapping[str, Any], value: bytes | None) -> Envelope:
        items = headers.items() if isinstance(headers, Mapping) else headers
        h: dict[str, str] = {}
        for k, v in items:
            try:
                h[k] = v.decode() if isinstance(v, bytes | bytearray) else str(v)
            except UnicodeDecodeError as exc:
                raise InvalidEnvelope(f"header {k!r} is not UTF-8") from exc
        missing = [a for a in _REQUIRED if f"ce_{a}" not in h]
        if missing:
            raise InvalidEnvelope(f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}")
        if h["ce_specversion"] != SPECVERSION:
            raise InvalidEnvelope(f"unsupported specversion {h['ce_specversion']!r}")
        try:
            uuid.UUID(h["ce_id"])
        except ValueError as exc:
            raise InvalidEnvelope("ce_id is not a UUID") from exc
        try:
            time = datetime.fromisoformat(h["ce_time"])
        except ValueError as exc:
            raise InvalidEnvelope("ce_time is not an RFC 3339 time") from exc
        if time.tzinfo is None:
            raise InvalidEnvelope("ce_time has no time zone")
        try:
            data = orjson.loads(value or b"")
        except orjson.JSONDecodeError as exc:
            raise InvalidEnvelope(f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidEnvelope("body is not a JSON object")
        return cls(
            id=h["ce_id"],
            source=h["ce_source"],
            type=h["ce_type"],
            subject=h["ce_subject"],
            tenantid=h["ce_tenantid"],
            time=time,
            data=data,
            correlationid=h.get("ce_correlationid"),
            causationid=h.get("ce_causationid"),
            datacontenttype=h.get("content-type", CONTENT_TYPE),
            trace_headers={k: h[k] for k in ("traceparent", "tracestate") if k in h},
        )


def new_envelope(
    payload: Event,
    *,
    source: str,
    subject: str,
    tenant: str,
    correlation_id: str | None = None,
    causation: Envelope | None = None,
    trace_headers: Mapping[str, str] | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap a payload; correlation defaults to the cause's correlation, then to the subject."""
    return Envelope(
        id=str(uuid.uuid4()),
        source=source,
        type=payload.type,
        subject=subject,
        tenantid=tenant,
        time=time or datetime.now(UTC),
        data=payload.model_dump(mode="json"),
        correlationid=correlation_id or (causation.correlationid if causation else None) or subject,
        causationid=causation.id if causation else None,
        trace_headers=dict(trace_headers or {}),
    )
