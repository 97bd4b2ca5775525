"""Event contracts: CloudEvents envelope + a registry of versioned pydantic payload models.

Each service's events live in contracts/<service>.py; importing this package registers them all.
"""

from fixflow_shared.events import contracts as _contracts  # noqa: F401  (registers every type)
from fixflow_shared.events.envelope import Envelope, InvalidEnvelope, new_envelope
from fixflow_shared.events.registry import Event, TicketEvent, UnknownEventType, event, registry

__all__ = [
    "Envelope",
    "Event",
    "InvalidEnvelope",
    "TicketEvent",
    "UnknownEventType",
    "event",
    "new_envelope",
    "registry",
]
