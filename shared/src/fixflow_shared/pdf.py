"""Fixflow's PDF look (reportlab): styles whose font writes Chinese as well as Latin text, and the
grid table billing's invoices, receipts and statements, the console's dashboard and dispatch's
service report are made of.

The font is reportlab's built-in Adobe CID font (STSong-Light): nothing to ship, no font file; it
is registered once, the first time styles are asked for. reportlab belongs to the `pdf` extra and
is imported inside the functions: only the services that make PDFs install it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

FONT = "STSong-Light"


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@dataclass(frozen=True)
class Styles:
    """reportlab ParagraphStyles."""

    h1: Any
    h2: Any
    body: Any


def styles() -> Styles:
    """Heading 1 (16 pt), heading 2 (12 pt) and body text (9 pt on 12 pt lines)."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    font, base = _font(), getSampleStyleSheet()
    return Styles(
        h1=ParagraphStyle("h1", parent=base["Heading1"], fontName=font, fontSize=16),
        h2=ParagraphStyle("h2", parent=base["Heading2"], fontName=font, fontSize=12),
        body=ParagraphStyle("b", parent=base["Normal"], fontName=font, fontSize=9, leading=12),
    )


def grid_table(rows: list[list[Any]], widths: list[float]) -> Any:
    """A reportlab Table of these cells (flowables) with a shaded header row, repeated on each page,
    and a thin grid."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=widths, repeatRows=1)
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


def document(story: list[Any], *, title: str, author: str = "Fixflow") -> bytes:
    """The PDF of these flowables: A4 with 15 mm margins, titled (every Fixflow PDF is laid out so)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    margin = 15 * mm
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=author,
    ).build(story)
    return buf.getvalue()
