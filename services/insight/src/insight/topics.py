"""The topics insight projects: every domain topic but its own alerts."""

from fixflow_shared import topics

PROJECTED_TOPICS: tuple[str, ...] = tuple(t for t in topics.DOMAIN_TOPICS if t != topics.INSIGHT_ALERTS)
