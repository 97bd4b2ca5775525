"""The service report: one PDF per completed work order (reportlab, as billing's invoices and the
console's dashboard), with the work done, parts, labour, the checklist as answered, the photos and
the signature image. CJK text (names, diagnoses in Chinese) is written in Fixflow's PDF font and
styles (fixflow_shared.pdf), as the console's dashboard.

Photos are printed at most 85 x 70 mm: each is scaled down to PHOTO_MAX_SIDE pixels on its longer
side (about 480 dpi at that size), turned upright by its EXIF orientation and written as a JPEG of
PHOTO_QUALITY, so a report with six phone photos of 2 MiB stays under 2 MiB (it was 10 MiB; figures:
bench/service_report.py). The signature, a small PNG, goes in as drawn (lossless, crisp)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from PIL import ImageOps
from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle

from fixflow_shared import pdf

# Binary streams: ASCII85 (reportlab's default) is encoded in pure Python without its C accelerator
# and cost about 0.7 s per large photo, inside the completion's transaction.
rl_config.useA85 = 0

PHOTO_MAX_SIDE = 1600  # px, the longer side of a photo in the report
PHOTO_QUALITY = 80  # JPEG quality of a photo made smaller
_PHOTO_AS_IS = 400 * 1024  # bytes: an upright JPEG within PHOTO_MAX_SIDE up to this size goes in as it is
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ReportImage:
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class ReportFacts:
    """What the report says (gathered by the completion use case)."""

    ticket_id: str
    work_order_id: str
    job_kind: str
    technician_name: str
    visit_number: int
    arrived_at: datetime | None
    completed_at: datetime
    resolution_code: str
    diagnosis: str | None
    parts: list[tuple[str, int, str]]  # part code, quantity, source
    labour_minutes: int
    checklist_title: str
    checklist: list[tuple[str, str]]  # label, answer as text
    signed_by: str
    signed_at: datetime
    signature: ReportImage | None = None
    photos: list[ReportImage] = field(default_factory=list)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "-"


def _photo(content: bytes) -> bytes:
    """The photo as the report prints it: a JPEG at most PHOTO_MAX_SIDE px on its longer side,
    upright. A small upright JPEG is kept as it is (no second loss, no time spent)."""
    with PILImage.open(io.BytesIO(content)) as im:
        w, h = im.size
        upright = im.getexif().get(_EXIF_ORIENTATION, 1) == 1
        fits = im.format == "JPEG" and upright and max(w, h) <= PHOTO_MAX_SIDE
        if fits and len(content) <= _PHOTO_AS_IS:
            return content
        k = min(1.0, PHOTO_MAX_SIDE / max(w, h))
        im.draft("RGB", (max(1, int(w * k)), max(1, int(h * k))))  # a JPEG decodes at 1/2, 1/4, 1/8 size
        pic = ImageOps.exif_transpose(im)
        pic.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), PILImage.Resampling.LANCZOS)
        if pic.mode in ("RGBA", "LA", "PA", "P") or "transparency" in pic.info:
            rgba = pic.convert("RGBA")
            pic = PILImage.new("RGB", rgba.size, "white")
            pic.paste(rgba, mask=rgba.getchannel("A"))
        elif pic.mode not in ("RGB", "L"):
            pic = pic.convert("RGB")
        out = io.BytesIO()
        pic.save(out, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    return content if fits and out.tell() >= len(content) else out.getvalue()


def _image(img: ReportImage, max_w: float, max_h: float, *, photo: bool = False) -> Image | None:
    try:
        content = _photo(img.content) if photo else img.content
        reader = ImageReader(io.BytesIO(content))
        w, h = reader.getSize()
        if not content.startswith(b"\xff\xd8"):
            # PNG and WebP are decoded into the PDF: a broken one fails here, not in the middle of it
            # (a JPEG goes in as it is, so decoding it here would only cost time)
            reader.getRGBData()
    except Exception:  # noqa: BLE001 - a picture reportlab cannot read is left out, the report still made
        return None
    k = min(max_w / w, max_h / h, 1.0 if w > max_w / 4 else max_w / 4 / w)
    return Image(io.BytesIO(content), width=w * k, height=h * k)


def render(f: ReportFacts) -> bytes:
    st = pdf.styles()
    h1, h2, body = st.h1, st.h2, st.body

    def p(text: Any) -> Paragraph:
        return Paragraph(escape(str(text)), body)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        return pdf.grid_table([[c if isinstance(c, Image) else p(c) for c in r] for r in rows], widths)

    story: list[Any] = [
        Paragraph(escape(f"Service report · 服务报告 · {f.ticket_id}"), h1),
        table(
            [
                ["Ticket 工单", f.ticket_id, "Work order 派工单", f"{f.work_order_id} (visit {f.visit_number})"],
                ["Job 服务类型", f.job_kind, "Technician 工程师", f.technician_name],
                ["Arrived 到达", _when(f.arrived_at), "Completed 完工", _when(f.completed_at)],
                ["Result 结果", f.resolution_code, "Labour 工时", f"{f.labour_minutes} min"],
            ],
            [30 * mm, 60 * mm, 35 * mm, 55 * mm],
        ),
        Spacer(1, 4 * mm),
        Paragraph("Work done 维修内容", h2),
        p(f.diagnosis or "-"),
        Spacer(1, 3 * mm),
        Paragraph("Parts 配件", h2),
    ]
    if f.parts:
        story.append(
            table(
                [["Part 配件", "Quantity 数量", "From 来源"]] + [[c, q, s] for c, q, s in f.parts],
                [80 * mm, 40 * mm, 60 * mm],
            )
        )
    else:
        story.append(p("none 无"))
    story += [Spacer(1, 3 * mm), Paragraph(escape(f"Checklist 检查单: {f.checklist_title}"), h2)]
    if f.checklist:
        story.append(table([["Item 项目", "Answer 结果"]] + [[q, a] for q, a in f.checklist], [120 * mm, 60 * mm]))
    else:
        story.append(p("-"))
    pictures = [(img, _image(img, 85 * mm, 70 * mm, photo=True)) for img in f.photos]
    pictures = [(img, im) for img, im in pictures if im is not None]
    if pictures:
        story += [Spacer(1, 3 * mm), Paragraph("Photos 照片", h2)]
        rows: list[list[Any]] = []
        for i in range(0, len(pictures), 2):
            pair = pictures[i : i + 2]
            rows.append([im for _, im in pair] + [""] * (2 - len(pair)))
            rows.append([img.caption or "" for img, _ in pair] + [""] * (2 - len(pair)))
        grid = Table(rows, colWidths=[90 * mm, 90 * mm])
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(grid)
    story += [Spacer(1, 4 * mm), Paragraph("Customer signature 客户签字", h2)]
    signature = _image(f.signature, 80 * mm, 35 * mm) if f.signature else None
    if signature is not None:
        story.append(signature)
    story.append(p(f"{f.signed_by} · {_when(f.signed_at)}"))
    return pdf.document(story, title=f"Service report {f.ticket_id}")
