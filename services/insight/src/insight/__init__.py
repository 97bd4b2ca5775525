"""insight: reporting projections rebuilt from every topic (KPIs, SLA attainment, quality alerts,
the monthly management report)."""

SERVICE = "insight"
