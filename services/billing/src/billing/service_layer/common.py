"""What billing's use cases share: line summaries for events."""

from __future__ import annotations

from billing.domain.pricing import Line
from fixflow_shared.events.contracts import billing as ev


def line_summary(ln: Line) -> ev.LineSummary:
    return ev.LineSummary(
        code=ln.code,
        description=ln.description,
        quantity=ln.quantity,
        unit_price_minor=ln.unit_price_minor,
        amount_minor=ln.amount_minor,
        charged=ln.charged,
        reason=ln.reason,
        rule=ln.rule,
    )
