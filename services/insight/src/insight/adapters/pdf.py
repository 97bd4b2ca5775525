"""The management report as PDF (fpdf2). Chinese needs a CJK font: the configured one, else Noto
Sans CJK from Debian's fonts-noto-cjk; without one the PDF keeps the English half of each label
and prints other characters as '?', rather than failing."""

from __future__ import annotations

import functools
import os
import re
from typing import Any

from fpdf import FPDF

from insight.domain.report import sections

NOTO_CJK = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
SIMPLIFIED_CHINESE_FACE = 2  # JP, KR, SC, TC, HK in the Noto Sans CJK collection


@functools.cache
def cjk_font(configured: str | None = None) -> str | None:
    for path in (configured, *NOTO_CJK):
        if path and os.path.exists(path):
            return path
    return None


def _latin(text: str) -> str:
    """Drop the Chinese half of a bilingual label; anything else outside Latin-1 becomes '?'."""
    text = re.sub(r"^[^\x00-\x7f]+\s*", "", text)
    return text.encode("latin-1", "replace").decode("latin-1")


def render(report: dict[str, Any], *, font: str | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    path = cjk_font(font)
    if path:
        face = SIMPLIFIED_CHINESE_FACE if path.endswith(".ttc") else 0
        pdf.add_font("cjk", fname=path, collection_font_number=face)
        family, clean = "cjk", (lambda s: s)
    else:
        family, clean = "helvetica", _latin
    pdf.set_font(family, size=16)
    pdf.cell(0, 10, clean(f"月度管理报告 Monthly management report {report['month']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=10)
    pdf.cell(0, 6, clean(f"租户 Tenant: {report['tenant_id']}"), new_x="LMARGIN", new_y="NEXT")
    for title, rows in sections(report):
        pdf.ln(3)
        pdf.set_font(family, size=12)
        pdf.cell(0, 8, clean(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9)
        with pdf.table(col_widths=(80, 110), text_align=("LEFT", "LEFT"), first_row_as_headings=False) as table:
            for label, value in rows:
                row = table.row()
                row.cell(clean(label))
                row.cell(clean(value))
    return bytes(pdf.output())
