"""Kafka entrypoints of billing: turn consumed events into calls of service_layer handlers."""

from __future__ import annotations

from fixflow_shared.runtime import ServiceRuntime


def register_consumers(runtime: ServiceRuntime) -> None:
    """Registers billing's consumer groups and handlers on the runtime's broker."""
