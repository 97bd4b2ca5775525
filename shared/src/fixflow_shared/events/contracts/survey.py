"""Events published by the survey service (owned by survey; see the service's issue)."""

from __future__ import annotations
