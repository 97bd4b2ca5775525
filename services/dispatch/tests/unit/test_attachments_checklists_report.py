"""Attachments checked by their first bytes, checklists' answers and required fields, the service
report's PDF (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch.adapters.service_report import ReportFacts, ReportImage, render
from dispatch.domain import attachments as att
from dispatch.domain.checklists import (
    INSPECTION,
    INSTALLATION_ACCEPTANCE,
    BadChecklist,
    Checklist,
    ChecklistIncomplete,
    default_for,
)
from fixflow_shared.testing.checklists import PNG

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 16
WEBP = b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8


def test_the_bytes_say_what_a_file_is_not_the_client():
    assert att.check("signature", PNG, "image/png") == "image/png"
    assert att.check("photo", JPEG, None) == "image/jpeg"
    assert att.check("photo", WEBP, "application/octet-stream") == "image/webp"
    assert att.check("report", b"%PDF-1.4\n", "application/pdf") == "application/pdf"
    for kind, data, declared in [
        ("signature", JPEG, "image/jpeg"),  # a signature is a PNG
        ("photo", PNG, "image/jpeg"),  # the request lies
        ("photo", b"GIF89a", "image/gif"),
        ("photo", b"", "image/png"),
        ("photo", PNG + b"\0" * att.MAX_BYTES, "image/png"),
        ("video", PNG, "image/png"),
    ]:
        with pytest.raises(att.BadAttachment):
            att.check(kind, data, declared)


def test_defaults_per_job_kind_and_what_completion_needs():
    assert default_for("installation") is INSTALLATION_ACCEPTANCE and default_for("repair") is INSPECTION
    assert [f.key for f in INSPECTION.missing({})] == ["safety_checked", "working_after"]
    assert INSPECTION.missing({"safety_checked": False, "working_after": False}) == []  # "no" is an answer
    with pytest.raises(ChecklistIncomplete) as exc:
        INSTALLATION_ACCEPTANCE.require_complete({"installed_level": True})
    assert exc.value.members["missing"] == ["test_run_minutes", "customer_instructed", "photo_installed"]


def test_answers_are_checked_against_the_fields():
    c = Checklist.of(
        "x",
        "X",
        [
            {"key": "ok", "label": "OK", "type": "yes_no", "required": True},
            {"key": "n", "label": "N", "type": "number"},
            {"key": "pic", "label": "Pic", "type": "photo"},
            {"key": "t", "label": "T", "type": "text"},
        ],
    )
    assert c.clean({"ok": True, "n": 2.5, "pic": "AT-1", "t": " fine "}, photo_ids={"AT-1"}) == {
        "ok": True,
        "n": 2.5,
        "pic": "AT-1",
        "t": "fine",
    }
    assert c.clean({"t": ""}, photo_ids=set()) == {"t": None}  # clears
    for bad in ({"ok": "yes"}, {"n": True}, {"pic": "AT-2"}, {"other": 1}, {"t": 5}):
        with pytest.raises(BadChecklist):
            c.clean(bad, photo_ids={"AT-1"})
    for fields in (
        [{"key": "A", "type": "text"}],
        [{"key": "a", "type": "signature"}],
        [{"key": "a", "type": "text"}] * 2,
    ):
        with pytest.raises(BadChecklist):
            Checklist.of("y", "Y", fields)


def test_the_report_is_a_pdf_with_the_pictures_and_chinese_text():
    now = datetime.now(UTC)
    facts = ReportFacts(
        ticket_id="T-1",
        work_order_id="WO-1",
        job_kind="repair",
        technician_name="王师傅",
        visit_number=1,
        arrived_at=now,
        completed_at=now,
        resolution_code="repaired",
        diagnosis="门封老化，已更换 <seal>",
        parts=[("SEAL-1", 1, "van_stock")],
        labour_minutes=40,
        checklist_title="Inspection",
        checklist=[("Appliance works after the visit", "yes 是")],
        signed_by="陈女士",
        signed_at=now,
        signature=ReportImage(PNG),
        photos=[ReportImage(PNG, "after"), ReportImage(b"not a picture", "broken")],
    )
    pdf = render(facts)
    # the photo (a JPEG, as every photo in the report), the signature (a PNG as drawn) and its alpha mask
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Subtype /Image") == 3
    assert b"STSong-Light" in pdf


def test_the_report_prints_answers_by_the_fields_type_not_by_what_the_text_looks_like():
    from dispatch.service_layer.service_reports import answer_text

    c = Checklist.of(
        "x",
        "X",
        [
            {"key": "pic", "label": "Pic", "type": "photo"},
            {"key": "t", "label": "T", "type": "text"},
            {"key": "ok", "label": "OK", "type": "yes_no"},
            {"key": "n", "label": "N", "type": "number"},
        ],
    )
    pic, text, ok, n = c.fields
    assert answer_text(pic, "AT-1") == "photo (below) 见照片"
    assert answer_text(text, "AT-3 door seal replaced") == "AT-3 door seal replaced"  # a text is printed as written
    assert (answer_text(ok, True), answer_text(ok, False), answer_text(n, 2.5)) == ("yes 是", "no 否", "2.5")


async def test_a_report_drawn_before_the_lock_is_kept_only_while_it_says_the_same():
    import dataclasses
    from types import SimpleNamespace

    from dispatch.domain.model import WorkOrder
    from dispatch.service_layer import service_reports

    now = datetime.now(UTC)
    photo = att.Attachment("AT-1", "acme", "WO-1", "T-1", "photo", "image/png", len(PNG), att.sha256(PNG), "after", now)
    renders = []

    class Repo:
        async def job(self, _id):
            return SimpleNamespace(kind="repair")

        async def technician(self, _id):
            return SimpleNamespace(name="王师傅")

    class Store:
        async def of_work_order(self, _id):
            return [photo]

        async def data_of(self, ids):
            return dict.fromkeys(ids, PNG)

    sign_off = {"signed_by": "陈女士", "signed_at": now.isoformat()}
    wo = WorkOrder("WO-1", "acme", "J-1", "T-1", "TEC-1", 1, diagnosis="seal", sign_off=sign_off)
    draw = service_reports.draw

    async def drawn(w, before=None):
        d = await draw(Repo(), Store(), w, checklist=INSPECTION, signature_id=None, now=now, before=before)
        if d is not before:
            renders.append(d)
        return d

    draft = await drawn(wo)
    assert draft.pdf.startswith(b"%PDF-") and draft.facts.technician_name == "王师傅" and len(renders) == 1
    assert await drawn(dataclasses.replace(wo), before=draft) is draft  # nothing changed: not rendered again
    changed = await drawn(dataclasses.replace(wo, diagnosis="seal and hinge"), before=draft)
    assert changed is not draft and changed.facts.diagnosis == "seal and hinge" and len(renders) == 2


async def test_the_reports_pictures_are_read_in_one_query_not_one_per_photo():
    from types import SimpleNamespace

    from dispatch.domain.model import WorkOrder
    from dispatch.service_layer import service_reports

    now = datetime.now(UTC)

    def kept(id_, kind, caption=None):
        return att.Attachment(id_, "acme", "WO-1", "T-1", kind, "image/png", 1, "0" * 64, caption, now)

    listed = [kept("AT-1", "photo", "before"), kept("AT-S", "signature"), kept("AT-2", "photo", "after")]
    listed += [kept("AT-3", "photo", "lost"), kept("AT-R", "report")]
    reads = []

    class Store:
        async def of_work_order(self, _id):
            return listed

        async def data_of(self, ids):
            reads.append(list(ids))
            return {i: PNG + i.encode() for i in ids if i != "AT-3"}  # AT-3's bytes are gone

    class Repo:
        async def job(self, _id):
            return SimpleNamespace(kind="repair")

        async def technician(self, _id):
            return None

    wo = WorkOrder("WO-1", "acme", "J-1", "T-1", "TEC-1", 1, sign_off={"signed_by": "Li", "signed_at": now.isoformat()})
    d = await service_reports.draw(Repo(), Store(), wo, checklist=INSPECTION, signature_id="AT-S", now=now)
    assert reads == [["AT-1", "AT-2", "AT-3", "AT-S"]], "one read for every picture"
    assert [(p.content, p.caption) for p in d.facts.photos] == [(PNG + b"AT-1", "before"), (PNG + b"AT-2", "after")]
    assert d.facts.signature is not None and d.facts.signature.content == PNG + b"AT-S"
