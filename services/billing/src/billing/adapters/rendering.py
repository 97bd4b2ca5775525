"""Documents: invoice and receipt PDF (reportlab), statement CSV and PDF."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.domain.model import Invoice
from billing.domain.money import Money

if TYPE_CHECKING:
    from billing.views import Statement


def _m(minor: int, cur: str) -> str:
    return Money(minor, cur).format()


def _pdf(story_fn) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Fixflow", author="Fixflow billing")
    doc.build(story_fn(getSampleStyleSheet()))
    return buf.getvalue()


_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def invoice_pdf(inv: Invoice) -> bytes:
    def story(ss):  # type: ignore[no-untyped-def]
        body = ss["BodyText"]
        rows = [["Item", "Qty", "Unit", "Amount", "Why"]]
        for ln in inv.lines:
            rows.append(
                [
                    Paragraph(ln.description, body),
                    str(ln.quantity),
                    _m(ln.unit_price_minor, inv.currency),
                    _m(ln.amount_minor, inv.currency),
                    Paragraph(f"{ln.reason} [{ln.rule}]", body),
                ]
            )
        t = Table(rows, colWidths=[110, 30, 70, 70, 210])
        t.setStyle(_GRID)
        return [
            Paragraph(f"Invoice {inv.number}", ss["Title"]),
            Paragraph(
                f"Ticket {inv.ticket_id} · work order {inv.work_order_id or '-'} · service kind "
                f"{inv.service_kind.value} · issued {inv.issued_at:%Y-%m-%d %H:%M} UTC",
                body,
            ),
            Spacer(1, 12),
            t,
            Spacer(1, 12),
            Paragraph(
                f"Subtotal {_m(inv.subtotal_minor, inv.currency)} · tax {_m(inv.tax_minor, inv.currency)} · "
                f"<b>total {_m(inv.total_minor, inv.currency)}</b> · paid {_m(inv.paid_minor, inv.currency)} · "
                f"balance due {_m(inv.balance_due_minor, inv.currency)}",
                body,
            ),
        ]

    return _pdf(story)


def receipt_pdf(inv: Invoice, payment: dict[str, Any]) -> bytes:
    """The receipt for one payment of an invoice: what was received, how, and what it paid."""

    def story(ss):  # type: ignore[no-untyped-def]
        body = ss["BodyText"]
        cur = str(payment["currency"])
        rows = [
            ["Receipt", str(payment["receipt_number"])],
            ["Received", f"{payment['received_at']:%Y-%m-%d %H:%M} UTC"],
            ["Method", str(payment["method"])],
            ["Amount received", _m(int(payment["amount_minor"]), cur)],
            ["Applied to the invoice", _m(int(payment["applied_minor"]), cur)],
            ["Kept as credit", _m(int(payment["credit_minor"]), cur)],
        ]
        t = Table(rows, colWidths=[150, 300])
        t.setStyle(_GRID)
        return [
            Paragraph(f"Receipt {payment['receipt_number']}", ss["Title"]),
            Paragraph(f"For invoice {inv.number} · ticket {inv.ticket_id}", body),
            Spacer(1, 12),
            t,
            Spacer(1, 12),
            Paragraph(
                f"Invoice total {_m(inv.total_minor, inv.currency)} · paid {_m(inv.paid_minor, inv.currency)} · "
                f"balance due {_m(inv.balance_due_minor, inv.currency)}",
                body,
            ),
        ]

    return _pdf(story)


STATEMENT_COLUMNS = ["date", "document", "kind", "ticket_id", "currency", "debit_minor", "credit_minor"]


def statement_csv(st: Statement) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=STATEMENT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in st.rows:
        w.writerow({k: r[k] for k in STATEMENT_COLUMNS})
    for cur, t in sorted(st.totals.items()):
        w.writerow(
            {
                "date": "",
                "document": "TOTAL",
                "kind": "balance",
                "ticket_id": "",
                "currency": cur,
                "debit_minor": t["debit_minor"],
                "credit_minor": t["credit_minor"],
            }
        )
    return buf.getvalue().encode("utf-8-sig")  # BOM: spreadsheet apps open UTF-8 correctly


def statement_pdf(st: Statement) -> bytes:
    def story(ss):  # type: ignore[no-untyped-def]
        rows = [["Date", "Document", "Kind", "Debit", "Credit"]]
        for r in st.rows:
            rows.append(
                [
                    r["date"][:10],
                    r["document"],
                    r["kind"],
                    _m(r["debit_minor"], r["currency"]),
                    _m(r["credit_minor"], r["currency"]),
                ]
            )
        t = Table(rows)
        t.setStyle(_GRID)
        out = [
            Paragraph(f"Statement {st.month} · customer {st.customer_id}", ss["Title"]),
            Spacer(1, 12),
            t,
            Spacer(1, 12),
        ]
        for cur, tot in sorted(st.totals.items()):
            out.append(
                Paragraph(
                    f"Balance {_m(tot['balance_minor'], cur)} (debit {_m(tot['debit_minor'], cur)}, "
                    f"credit {_m(tot['credit_minor'], cur)})",
                    ss["BodyText"],
                )
            )
        return out

    return _pdf(story)
