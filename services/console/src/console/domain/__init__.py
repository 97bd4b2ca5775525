"""The console's rules of presentation (pure Python, no I/O): who sees which live update, SLA
badges, the board's geometry and map, KPI figures. The console owns no domain data."""
