"""Events published by the billing service (owned by billing; see the service's issue)."""

from __future__ import annotations
