"""The dashboard as a PDF (reportlab, as billing's documents): KPI table, per technician, SLA list.
CJK text uses reportlab's built-in Adobe CID font, so no font file is needed."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def dashboard_pdf(
    *,
    title: str,
    period: str,
    headings: dict[str, str],
    tiles: list[tuple[str, str, str]],
    technicians: list[list[Any]],
    risky: list[list[Any]],
) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm, title=title
    )
    base = getSampleStyleSheet()
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=FONT, fontSize=16)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=FONT, fontSize=12)
    body = ParagraphStyle("b", parent=base["Normal"], fontName=FONT, fontSize=9)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        t = Table([[Paragraph(str(c), body) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dee8")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    story: list[Any] = [Paragraph(title, h1), Paragraph(period, body), Spacer(1, 4 * mm)]
    story += [
        Paragraph(headings["kpis"], h2),
        table([[headings["kpi"], headings["value"], ""]] + [list(t) for t in tiles], [80 * mm, 45 * mm, 55 * mm]),
    ]
    story += [Spacer(1, 4 * mm), Paragraph(headings["technicians"], h2)]
    story.append(table(technicians, [50 * mm, 25 * mm, 25 * mm, 25 * mm, 25 * mm, 30 * mm]))
    story += [Spacer(1, 4 * mm), Paragraph(headings["sla"], h2)]
    story.append(table(risky, [50 * mm, 30 * mm, 20 * mm, 40 * mm, 40 * mm]))
    doc.build(story)
    return buf.getvalue()
