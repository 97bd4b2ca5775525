"""Returns (退换货) over real infrastructure: a counter sale is invoiced and paid; when dispatch
reports the returned item at the warehouse (return.received, twice) billing refunds once, keeping
the customer's share (the tenant's return freight + the card fee on the card payment), with a
credit note; the refund events are about the return ticket."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from fixflow_shared import topics
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.dispatch import ReturnReceived
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.testing import auth_headers, eventually
from fixflow_shared.testing.kafka import consumed, publish, read_to_end
from fixflow_shared.testing.services import outbox_sent

from .learned import learn_customer, runtime_of
from .test_settlement import _facts_stored

pytestmark = pytest.mark.integration


async def test_return_received_refunds_the_sale_once_minus_freight_and_card_fee(billing_app, client, kafka):
    runtime, _ = billing_app
    tenant = f"ret{uuid.uuid4().hex[:6]}"
    h = auth_headers(tenant, "manager,agent")
    r = await client.post(
        "/v1/price-books",
        json={
            "effective_from": date(2020, 1, 1).isoformat(),
            "visit_fee_minor": 2000,
            "adjustment_fee_minor": 2000,
            "fitting_labour_minor": 3000,
            "freight_minor": 1500,
            "card_fee_bp": 60,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    unknown = await client.post(
        "/v1/sales",
        json={
            "customer_id": "cust-1",
            "asset_id": "asset-1",
            "items": [{"code": "X", "description": "x", "unit_price_minor": 1}],
        },
        headers=h,
    )
    assert unknown.status_code == 422 and unknown.json()["title"] == "Unknown reference"  # not from intake (yet)
    await learn_customer(runtime_of(client), tenant, "cust-1")
    sale = await client.post(
        "/v1/sales",
        json={
            "customer_id": "cust-1",
            "asset_id": "asset-1",
            "items": [{"code": "WM-X100", "description": "washing machine X100", "unit_price_minor": 259900}],
        },
        headers=h,
    )
    assert sale.status_code == 201, sale.text
    inv = sale.json()
    assert (
        inv["total_minor"] == 259900 and inv["lines"][0]["code"] == "product" and inv["work_order_id"] == "sale:asset-1"
    )
    again = await client.post(
        "/v1/sales",
        json={
            "customer_id": "cust-1",
            "asset_id": "asset-1",
            "items": [{"code": "WM-X100", "description": "again", "unit_price_minor": 1}],
        },
        headers=h,
    )
    assert again.status_code == 409
    paid = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 259900, "currency": "CNY", "method": "card"},
        headers=h,
    )
    assert paid.status_code == 201 and paid.json()["invoice_status"] == "paid"

    ticket = "T-ret" + uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    opened = new_envelope(
        TicketOpened(
            ticket_id=ticket,
            tenant_id=tenant,
            customer_id="cust-1",
            asset_id="asset-1",
            kind="return",
            channel="phone",
            symptom="changed my mind",
            warranty_status="return_window_open",
            opened_at=now,
        ),
        source="/fixflow/intake",
        subject=ticket,
        tenant=tenant,
    )
    received = new_envelope(
        ReturnReceived(
            ticket_id=ticket, tenant_id=tenant, pickup_request_id=f"PU-{ticket}", shipment_id="SF-9", received_at=now
        ),
        source="/fixflow/dispatch",
        subject=ticket,
        tenant=tenant,
    )
    await publish(kafka.bootstrap, opened)
    await _facts_stored(runtime, tenant, ticket)  # the ticket's facts first (another topic)
    copies = await publish(kafka.bootstrap, received, received)

    now_inv = await eventually(
        lambda: _invoice(client, inv["id"], h), lambda i: i["refunded_minor"], what="the sale refunded"
    )
    assert now_inv["refunded_minor"] == 259900 and now_inv["status"] == "refunded"

    # Both copies were processed and everything billing wrote is on the broker: a second refund
    # would be in what is read now.
    await consumed(kafka.bootstrap, runtime.consumers[0].group_id, *copies)
    await outbox_sent(runtime, key=ticket)
    found = await read_to_end(kafka.bootstrap, topics.BILLING_INVOICES, subject=ticket)
    refunds = [e.payload() for e in found if e.type.endswith("refund.issued.v1")]
    notes = [e.payload() for e in found if e.type.endswith("credit-note.issued.v1")]
    assert len(refunds) == 1 and len(notes) == 1
    card_fee = (259900 * 60 + 5000) // 10000  # 0.6 %, half up
    assert refunds[0].gross_minor == 259900 and refunds[0].customer_share_minor == 1500 + card_fee
    assert refunds[0].amount_minor == 259900 - 1500 - card_fee
    assert refunds[0].invoice_id == inv["id"] and refunds[0].credit_note_id == notes[0].credit_note_id
    assert notes[0].amount_minor == 259900 and notes[0].credit_note_number.startswith("CN")


async def _invoice(client, invoice_id: str, headers: dict[str, str]) -> dict:
    return (await client.get(f"/v1/invoices/{invoice_id}", headers=headers)).json()
