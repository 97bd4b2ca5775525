"""What a PDF draws, and in which font, for tests (pypdf): that a Chinese line description is
written in the CJK font (fixflow_shared.pdf) and not in a font without Chinese glyphs (reportlab's
Helvetica draws black boxes for it, in ZapfDingbats)."""

from __future__ import annotations

import io

CJK_FONT = "STSong-Light"


def drawn(content: bytes) -> list[tuple[str, str]]:
    """(text, base font name) of every piece of text the PDF shows, page by page, in order."""
    from pypdf import PdfReader

    pieces: list[tuple[str, str]] = []

    def visit(text: str, _cm: object, _tm: object, font: object, _size: object) -> None:
        if text.strip():
            base = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
            pieces.append((text, base.lstrip("/")))

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return pieces


def text_in(content: bytes, font: str) -> str:
    """All the text the PDF shows in this font, joined."""
    return "".join(t for t, f in drawn(content) if f == font)
