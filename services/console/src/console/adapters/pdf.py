"""The dashboard as a PDF (reportlab, as billing's documents): KPI table, per technician, SLA list.
CJK text is written in Fixflow's PDF font and styles (fixflow_shared.pdf), as dispatch's service
report."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table

from fixflow_shared import pdf


def dashboard_pdf(
    *,
    title: str,
    period: str,
    headings: dict[str, str],
    tiles: list[tuple[str, str, str]],
    technicians: list[list[Any]],
    risky: list[list[Any]],
) -> bytes:
    st = pdf.styles()
    h1, h2, body = st.h1, st.h2, st.body

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        return pdf.grid_table([[Paragraph(str(c), body) for c in r] for r in rows], widths)

    story: list[Any] = [Paragraph(title, h1), Paragraph(period, body), Spacer(1, 4 * mm)]
    story += [
        Paragraph(headings["kpis"], h2),
        table([[headings["kpi"], headings["value"], ""]] + [list(t) for t in tiles], [80 * mm, 45 * mm, 55 * mm]),
    ]
    story += [Spacer(1, 4 * mm), Paragraph(headings["technicians"], h2)]
    story.append(table(technicians, [50 * mm, 25 * mm, 25 * mm, 25 * mm, 25 * mm, 30 * mm]))
    story += [Spacer(1, 4 * mm), Paragraph(headings["sla"], h2)]
    story.append(table(risky, [50 * mm, 30 * mm, 20 * mm, 40 * mm, 40 * mm]))
    return pdf.document(story, title=title)
