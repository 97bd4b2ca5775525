"""insight's domain: pure Python, no I/O (facts, KPI definitions, quality rules, the report)."""
