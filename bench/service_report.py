"""Dispatch's service report (dispatch/adapters/service_report.py) with large photos: the PDF's
size and the render time of a report with six phone photos of 4000 x 3000 px (JPEG, each just
under the 2 MiB an attachment may have), one PNG and a signature, against the same report without
photos, and against the same photos put in as uploaded (what the report did before it scaled them
down). The photos are made here (a smooth picture with grain, as a camera's), no files needed.

    .venv/bin/python bench/service_report.py [--photos 6] [--size 4000x3000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))
sys.path.insert(0, str(ROOT / "services" / "dispatch" / "src"))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from dispatch.adapters import service_report  # noqa: E402
from dispatch.adapters.service_report import ReportFacts, ReportImage, render  # noqa: E402
from dispatch.domain.attachments import MAX_BYTES  # noqa: E402
from fixflow_shared.testing.checklists import PNG  # noqa: E402


def photo(i: int, w: int, h: int, fmt: str = "JPEG") -> bytes:
    """A camera-like picture: shapes, a blur, grain; the JPEG quality is lowered until it fits 2 MiB."""
    img = Image.new("RGB", (w, h), (40 + 20 * i, 90, 140))
    d = ImageDraw.Draw(img)
    for k in range(40):
        x, y = (k * 977 + i * 313) % w, (k * 601 + i * 197) % h
        d.ellipse((x, y, x + w // 6, y + h // 5), fill=((k * 53) % 256, (k * 97 + i * 31) % 256, (k * 29) % 256))
    img = img.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    img = Image.blend(img, noise, 0.2)
    for q in (92, 88, 84, 80, 75, 70, 60):
        buf = io.BytesIO()
        img.save(buf, fmt, quality=q)
        if buf.tell() <= MAX_BYTES:
            return buf.getvalue()
    raise SystemExit("could not make a photo under the attachment limit")


def facts(photos: list[bytes]) -> ReportFacts:
    now = datetime.now(UTC)
    return ReportFacts(
        ticket_id="T-BENCH",
        work_order_id="WO-BENCH",
        job_kind="repair",
        technician_name="王师傅",
        visit_number=1,
        arrived_at=now,
        completed_at=now,
        resolution_code="part_replaced",
        diagnosis="压缩机损坏，已更换",
        parts=[("COMP-1", 1, "van_stock")],
        labour_minutes=90,
        checklist_title="Inspection",
        checklist=[("Appliance works after the visit", "yes 是")],
        signed_by="陈女士",
        signed_at=now,
        signature=ReportImage(PNG),
        photos=[ReportImage(p, f"photo {i + 1}") for i, p in enumerate(photos)],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--size", default="4000x3000")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    photos = [photo(i, w, h) for i in range(a.photos)]
    print(
        f"service report: {a.photos} JPEG photos of {w}x{h} px, {sum(map(len, photos)) / 2**20:.1f} MiB in all "
        f"(largest {max(map(len, photos)) / 2**20:.2f} MiB); best and median of {a.repeat} renders, interleaved"
    )
    scaled = service_report._photo
    cases: list[tuple[str, ReportFacts, Callable[[bytes], bytes]]] = [
        ("no photos", facts([]), scaled),
        # what the report did before photos were scaled down: each went in as uploaded
        (f"{a.photos} photos as uploaded", facts(photos), lambda content: content),
        (f"{a.photos} photos scaled", facts(photos), scaled),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    sizes: dict[str, int] = {}
    for _ in range(a.repeat):
        for label, f, prepare in cases:
            service_report._photo = prepare  # type: ignore[assignment]
            t0 = time.perf_counter()
            sizes[label] = len(render(f))
            times[label].append(time.perf_counter() - t0)
    service_report._photo = scaled  # type: ignore[assignment]
    print(f"  {'report':<24} {'PDF KiB':>8} {'best s':>7} {'median s':>9}")
    for label, _, _ in cases:
        t = times[label]
        print(f"  {label:<24} {sizes[label] / 1024:>8.0f} {min(t):>7.2f} {statistics.median(t):>9.2f}")


if __name__ == "__main__":
    main()
