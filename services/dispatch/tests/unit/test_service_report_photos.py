"""The service report's photos, scaled down to what a printed report needs: six phone photos of
4000 x 3000 px (each up to 2 MiB) make a report under 2 MiB, each photo at most PHOTO_MAX_SIDE px
and upright; the PNG signature goes in as drawn (lossless)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFilter

from dispatch.adapters.service_report import PHOTO_MAX_SIDE, ReportFacts, ReportImage, render
from dispatch.domain.attachments import MAX_BYTES
from fixflow_shared.testing.pdf import CJK_FONT, text_in


def _facts(photos: list[ReportImage], signature: bytes | None = None) -> ReportFacts:
    now = datetime.now(UTC)
    return ReportFacts(
        ticket_id="T-1",
        work_order_id="WO-1",
        job_kind="repair",
        technician_name="王师傅",
        visit_number=1,
        arrived_at=now,
        completed_at=now,
        resolution_code="part_replaced",
        diagnosis="压缩机损坏，已更换",
        parts=[],
        labour_minutes=60,
        checklist_title="Inspection",
        checklist=[],
        signed_by="陈女士",
        signed_at=now,
        signature=ReportImage(signature) if signature else None,
        photos=photos,
    )


def _images(pdf: bytes) -> list[tuple[int, int, str]]:
    """(width, height, filter) of every image the PDF embeds."""
    found = []
    for d in re.findall(rb"<<((?:(?!<<|>>).)*?/Subtype /Image(?:(?!<<|>>).)*?)>>", pdf, re.S):
        w, h = (int(re.search(rb"/%s (\d+)" % k, d).group(1)) for k in (b"Width", b"Height"))  # type: ignore[union-attr]
        found.append((w, h, "DCT" if b"DCTDecode" in d else "Flate" if b"FlateDecode" in d else "other"))
    return found


def _camera_photos(n: int) -> list[bytes]:
    """n distinct 4000 x 3000 JPEGs with a camera's grain, each between 1 and 2 MiB."""
    base = Image.new("RGB", (4000, 3000), (60, 110, 150))
    ImageDraw.Draw(base).ellipse((500, 400, 3200, 2600), fill=(200, 160, 90))
    base = Image.blend(
        base.filter(ImageFilter.GaussianBlur(8)), Image.effect_noise((4000, 3000), 40).convert("RGB"), 0.2
    )
    photos = []
    for i in range(n):
        img = base.copy()
        ImageDraw.Draw(img).rectangle((100 * i, 100, 100 * i + 300, 400), fill=(255, 255 - 30 * i, 0))
        for quality in (90, 80, 70):  # the best that fits the attachment limit, as a phone would
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=quality)
            if buf.tell() <= MAX_BYTES:
                break
        photos.append(buf.getvalue())
    return photos


def test_six_large_photos_make_a_report_under_two_mib_each_photo_at_most_the_print_size():
    photos = _camera_photos(6)
    assert all(2**20 < len(p) <= MAX_BYTES for p in photos), [len(p) for p in photos]
    signature = io.BytesIO()
    Image.new("LA", (400, 150), (0, 0)).save(signature, "PNG")
    pdf = render(_facts([ReportImage(p, f"photo {i}") for i, p in enumerate(photos)], signature.getvalue()))
    assert len(pdf) < 2 * 2**20, f"{len(pdf) / 2**20:.1f} MiB for {sum(map(len, photos)) / 2**20:.1f} MiB of photos"
    images = _images(pdf)
    signature_and_its_alpha = [(400, 150, "Flate")] * 2  # lossless, as drawn
    assert sorted(images) == sorted([(PHOTO_MAX_SIDE, PHOTO_MAX_SIDE * 3 // 4, "DCT")] * 6 + signature_and_its_alpha)
    assert "压缩机损坏，已更换" in text_in(pdf, CJK_FONT)


def test_a_photo_is_printed_upright_and_a_small_jpeg_goes_in_as_it_is():
    sideways = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: view it rotated 90 degrees clockwise
    Image.new("RGB", (400, 300), "red").save(sideways, "JPEG", exif=exif)
    small = io.BytesIO()
    Image.new("RGB", (640, 480), "blue").save(small, "JPEG", quality=85)
    big_png = io.BytesIO()
    Image.new("RGBA", (2400, 1800), (0, 128, 0, 128)).save(big_png, "PNG")
    pdf = render(
        _facts([ReportImage(sideways.getvalue()), ReportImage(small.getvalue()), ReportImage(big_png.getvalue())])
    )
    assert sorted(_images(pdf)) == sorted([(300, 400, "DCT"), (640, 480, "DCT"), (1600, 1200, "DCT")])
    assert small.getvalue() in pdf  # the bytes as taken, not encoded a second time
