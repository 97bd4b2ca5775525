"""Events published by the dispatch service (owned by dispatch; see the service's issue)."""

from __future__ import annotations
