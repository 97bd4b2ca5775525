"""Attachments (the customer's signature image, photos) and checklists per job kind over HTTP: bytes
checked by their magic, the same upload kept once, access for the technician, the ticket's customer
and the office only; completion refused while a required checklist field is empty."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from dispatch_test_helpers import CUSTOMER, PNG, fill_checklist, h, open_ticket, technician, tenant

from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def on_site(client, kafka, t: str, **kw):
    """A work order whose technician has arrived: (work order id, technician headers)."""
    tech = await technician(client, t, name="Wu")
    env = await open_ticket(kafka.bootstrap, t, **kw)

    async def job():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    j = await eventually(job, lambda x: x is not None and x["status"] == "assigned")
    wo = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=tech["id"])
    assert (await client.post(f"/v1/work-orders/{wo}/arrival", json={}, headers=hdr)).status_code == 200
    return wo, hdr, env.subject


def upload(client, wo, hdr, data: bytes, *, kind: str = "signature", content_type: str = "image/png"):
    return client.post(
        f"/v1/work-orders/{wo}/attachments",
        params={"kind": kind},
        content=data,
        headers={**hdr, "Content-Type": content_type},
    )


async def test_signature_image_kept_once_linked_at_sign_off_and_readable_by_its_owners(client, kafka):
    t = tenant()
    wo, hdr, ticket = await on_site(client, kafka, t)
    first = await upload(client, wo, hdr, PNG)
    assert first.status_code == 201, first.text
    again = await upload(client, wo, hdr, PNG)  # a replay of the device's queue
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    sig = first.json()
    assert sig["sha256"] == hashlib.sha256(PNG).hexdigest() and sig["media_type"] == "image/png"
    listed = (await client.get(f"/v1/work-orders/{wo}/attachments", headers=hdr)).json()
    assert [a["id"] for a in listed] == [sig["id"]]

    # completion is refused while the inspection's required fields are empty, naming them
    body = {
        "resolution_code": "repaired",
        "signed_by": "Ms Lin",
        "signed_at": datetime.now(UTC).isoformat(),
        "signature_sha256": sig["sha256"],
    }
    refused = await client.post(f"/v1/work-orders/{wo}/completion", json=body, headers=hdr)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert set(refused.json()["missing"]) == {"safety_checked", "working_after"}, refused.json()
    await fill_checklist(client, wo, hdr)
    photo = await upload(client, wo, hdr, PNG + b"after the repair", kind="photo")
    assert photo.status_code == 201, photo.text
    done = await client.post(f"/v1/work-orders/{wo}/completion", json=body, headers=hdr)
    assert done.status_code == 200, done.text
    assert done.json()["sign_off"]["signature_attachment_id"] == sig["id"]
    assert done.json()["checklist_answers"] == {"safety_checked": True, "working_after": True}

    # the bytes, for the technician, the ticket's customer and the office; nobody else
    for who in (hdr, h(t, "customer", customer_id=CUSTOMER), h(t, "agent")):
        r = await client.get(f"/v1/attachments/{sig['id']}", headers=who)
        assert r.status_code == 200 and r.content == PNG and r.headers["content-type"] == "image/png"
    for stranger in (
        h(t, "customer", customer_id="C-someone-else"),
        h(t, "technician", technician_id="TEC-other"),
        h(tenant()),
    ):
        assert (await client.get(f"/v1/attachments/{sig['id']}", headers=stranger)).status_code == 404
    mine = await client.get(f"/v1/tickets/{ticket}/attachments", headers=h(t, "customer", customer_id=CUSTOMER))
    assert mine.status_code == 200 and sig["id"] in {a["id"] for a in mine.json()}
    other = await client.get(f"/v1/tickets/{ticket}/attachments", headers=h(t, "customer", customer_id="C-x"))
    assert other.status_code == 404
    # the service report: made once at completion, listed on the ticket for its customer, a PDF
    report_id = done.json()["sign_off"]["service_report_id"]
    reports = [a for a in mine.json() if a["kind"] == "report"]
    assert [a["id"] for a in reports] == [report_id] and reports[0]["media_type"] == "application/pdf"
    pdf = await client.get(f"/v1/attachments/{report_id}", headers=h(t, "customer", customer_id=CUSTOMER))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and b"/Subtype /Image" in pdf.content
    # the photo (read with the signature in one query) as a JPEG, the signature and its alpha mask
    assert pdf.content.count(b"/Subtype /Image") == 3 and pdf.content.count(b"/DCTDecode") == 1
    # a finished work order takes no new photos
    late = await upload(client, wo, hdr, PNG + b"late", kind="photo")
    assert late.status_code == 409


async def test_bad_bytes_are_422_problems_and_nothing_is_stored(client, kafka):
    t = tenant()
    wo, hdr, _ = await on_site(client, kafka, t)
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 64
    cases = [
        (b"GIF89a" + b"\0" * 32, "signature", "image/png"),  # not an accepted type at all
        (jpeg, "signature", "image/jpeg"),  # a signature is a PNG
        (PNG, "photo", "image/jpeg"),  # says JPEG, is a PNG
        (b"", "photo", "image/png"),  # empty
        (PNG + b"\0" * (2 * 1024 * 1024), "photo", "image/png"),  # over 2 MiB
        (b"%PDF-1.7", "report", "application/pdf"),  # reports are dispatch's own
    ]
    for data, kind, ctype in cases:
        r = await upload(client, wo, hdr, data, kind=kind, content_type=ctype)
        assert r.status_code == 422, (kind, ctype, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/v1/work-orders/{wo}/attachments", headers=hdr)).json() == []
    ok = await upload(client, wo, hdr, jpeg, kind="photo", content_type="image/jpeg")
    assert ok.status_code == 201 and ok.json()["media_type"] == "image/jpeg"
    photos = (await client.get(f"/v1/work-orders/{wo}", headers=hdr)).json()["photos"]
    assert [p["attachment_id"] for p in photos] == [ok.json()["id"]]


async def test_tenant_checklist_for_installations_with_a_required_photo(client, kafka):
    t = tenant()
    default = (await client.get("/v1/checklists/installation", headers=h(t))).json()
    assert default["default"] is True and default["code"] == "installation_acceptance"
    form = {
        "code": "hood_install",
        "title": "Range hood installation",
        "fields": [
            {"key": "duct_sealed", "label": "Duct sealed", "type": "yes_no", "required": True},
            {"key": "height_cm", "label": "Height above hob (cm)", "type": "number", "required": True},
            {"key": "photo", "label": "Photo of the hood", "type": "photo", "required": True},
            {"key": "notes", "label": "Notes", "type": "text"},
        ],
    }
    assert (await client.put("/v1/checklists/installation", json=form, headers=h(t, "agent"))).status_code == 403
    r = await client.put("/v1/checklists/installation", json=form, headers=h(t, "manager"))
    assert r.status_code == 200 and r.json()["default"] is False, r.text
    bad = {**form, "fields": [{"key": "x", "label": "X", "type": "signature"}]}
    assert (await client.put("/v1/checklists/installation", json=bad, headers=h(t, "manager"))).status_code == 422

    wo, hdr, _ = await on_site(client, kafka, t, kind="installation")
    seen = (await client.get(f"/v1/work-orders/{wo}/checklist", headers=hdr)).json()
    assert seen["code"] == "hood_install" and seen["missing"] == ["duct_sealed", "height_cm", "photo"]
    wrong = [{"duct_sealed": "yes"}, {"height_cm": True}, {"photo": "AT-not-a-photo-of-this-job"}, {"colour": "red"}]
    for answers in wrong:
        r = await client.post(f"/v1/work-orders/{wo}/checklist", json={"answers": answers}, headers=hdr)
        assert r.status_code == 422, (answers, r.text)
    photo = (await upload(client, wo, hdr, PNG, kind="photo")).json()
    r = await client.post(
        f"/v1/work-orders/{wo}/checklist",
        json={"answers": {"duct_sealed": False, "height_cm": 65, "photo": photo["id"]}},
        headers=hdr,
    )
    assert r.status_code == 200 and r.json()["missing"] == [], r.text
    # "no" is an answer; the sign-off may bring answers too
    body = {
        "resolution_code": "installed",
        "signed_by": "Mr Zhao",
        "signed_at": datetime.now(UTC).isoformat(),
        "signature_sha256": "d" * 64,
        "checklist": {"notes": "hood 65 cm above the hob"},
    }
    done = await client.post(f"/v1/work-orders/{wo}/completion", json=body, headers=hdr)
    assert done.status_code == 200, done.text
    assert done.json()["checklist_answers"]["notes"] == "hood 65 cm above the hob"
    assert "signature_attachment_id" not in done.json()["sign_off"]  # no image was uploaded for this hash
