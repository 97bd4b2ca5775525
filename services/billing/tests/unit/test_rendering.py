"""Invoice, receipt and statement PDFs a Chinese service centre can print: every text, Chinese line
descriptions and customer ids included, is drawn in the CJK font (fixflow_shared.pdf), none in a
font without Chinese glyphs (reportlab's Helvetica drew black boxes), and text that looks like
markup is printed as written."""

from __future__ import annotations

from datetime import UTC, datetime

from billing.adapters import rendering
from billing.domain.model import Invoice
from billing.domain.pricing import Line, ServiceKind
from billing.views import Statement
from fixflow_shared.testing.pdf import CJK_FONT, drawn, text_in

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _invoice() -> Invoice:
    lines = (
        Line("part", "更换压缩机 <COMP-1> & 密封圈", 1, 48000, 48000, True, "保修期外", "schedule.part", ref="COMP-1"),
        Line("labour", "上门维修", 1, 8000, 8000, True, "out of warranty", "schedule.visit"),
    )
    return Invoice(
        id="i-1",
        number="INV-2026-000007",
        tenant_id="t1",
        ticket_id="tkt-1",
        customer_id="张三",
        work_order_id="WO-1",
        service_kind=ServiceKind.PAID,
        currency="CNY",
        lines=lines,
        subtotal_minor=56000,
        tax_minor=0,
        total_minor=56000,
        issued_at=NOW,
        paid_minor=20000,
    )


def _only_the_cjk_font(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    fonts = {f for _, f in drawn(pdf)}
    assert fonts == {CJK_FONT}, f"text drawn in {fonts - {CJK_FONT}}: Chinese in those prints as black boxes"


def test_an_invoice_prints_its_chinese_line_descriptions_in_the_cjk_font():
    pdf = rendering.invoice_pdf(_invoice())
    _only_the_cjk_font(pdf)
    text = text_in(pdf, CJK_FONT)
    for printed in ("更换压缩机 <COMP-1> & 密封圈", "上门维修", "保修期外 [schedule.part]", "INV-2026-000007"):
        assert printed in text, printed
    assert "560.00 CNY" in text and "360.00 CNY" in text  # total, balance due


def test_a_receipt_and_a_statement_print_in_the_cjk_font():
    payment = {
        "receipt_number": "R-INV-2026-000007-01",
        "received_at": NOW,
        "method": "cash",
        "currency": "CNY",
        "amount_minor": 20000,
        "applied_minor": 20000,
        "credit_minor": 0,
    }
    receipt = rendering.receipt_pdf(_invoice(), payment)
    _only_the_cjk_font(receipt)
    assert "R-INV-2026-000007-01" in text_in(receipt, CJK_FONT) and "收据" in text_in(receipt, CJK_FONT)

    st = Statement("t1", "华南维修中心 & Co", "2026-03")
    st.rows.append(
        {
            "date": NOW.isoformat(),
            "document": "INV-2026-000007",
            "kind": "invoice",
            "ticket_id": "tkt-1",
            "currency": "CNY",
            "debit_minor": 56000,
            "credit_minor": 0,
        }
    )
    st.totals["CNY"] = {"debit_minor": 56000, "credit_minor": 0, "balance_minor": 56000}
    statement = rendering.statement_pdf(st)
    _only_the_cjk_font(statement)
    assert "华南维修中心 & Co" in text_in(statement, CJK_FONT)
