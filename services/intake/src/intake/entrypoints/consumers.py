"""Kafka entrypoints: events from other services that move intake's tickets (added per issue)."""

from __future__ import annotations

from fixflow_shared.runtime import ServiceRuntime


def register_consumers(runtime: ServiceRuntime) -> None:
    """Intake consumes dispatch, billing and survey events; none in the walking skeleton yet."""
