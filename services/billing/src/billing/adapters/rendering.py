"""Documents: invoice and receipt PDF (reportlab), statement CSV and PDF.

The PDFs are written in Fixflow's PDF font and look (fixflow_shared.pdf, as dispatch's service
report and the console's dashboard): Chinese text (a line's description, a part's name, a
customer's id) prints, where reportlab's default Helvetica drew black boxes. Every text is escaped
before it goes into a Paragraph (its mini-markup would take `<` and `&` for tags). Rendering is CPU
work: the routes call these functions in a worker thread."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from billing.domain.model import Invoice
from billing.domain.money import Money
from fixflow_shared import pdf

if TYPE_CHECKING:
    from billing.views import Statement


def _m(minor: int, cur: str) -> str:
    return Money(minor, cur).format()


def _pdf(title: str, story: Callable[[pdf.Styles], list[Any]]) -> bytes:
    return pdf.document(story(pdf.styles()), title=title, author="Fixflow billing")


def _p(text: Any, style: Any) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(st: pdf.Styles, rows: list[list[Any]], widths: list[float]) -> Any:
    return pdf.grid_table([[_p(c, st.body) for c in r] for r in rows], widths)


def invoice_pdf(inv: Invoice) -> bytes:
    def story(st: pdf.Styles) -> list[Any]:
        cur = inv.currency
        rows: list[list[Any]] = [["Item 项目", "Qty 数量", "Unit price 单价", "Amount 金额", "Why 说明"]]
        for ln in inv.lines:
            rows.append(
                [
                    ln.description,
                    ln.quantity,
                    _m(ln.unit_price_minor, cur),
                    _m(ln.amount_minor, cur),
                    f"{ln.reason} [{ln.rule}]",
                ]
            )
        return [
            _p(f"Invoice 发票 {inv.number}", st.h1),
            _p(
                f"Ticket 工单 {inv.ticket_id} · work order 派工单 {inv.work_order_id or '-'} · service kind "
                f"{inv.service_kind.value} · issued 开票 {inv.issued_at:%Y-%m-%d %H:%M} UTC",
                st.body,
            ),
            Spacer(1, 4 * mm),
            _table(st, rows, [50 * mm, 16 * mm, 28 * mm, 28 * mm, 58 * mm]),
            Spacer(1, 4 * mm),
            Paragraph(
                escape(f"Subtotal 小计 {_m(inv.subtotal_minor, cur)} · tax 税额 {_m(inv.tax_minor, cur)} · ")
                + f"<b>{escape(f'total 合计 {_m(inv.total_minor, cur)}')}</b>"
                + escape(
                    f" · paid 已付 {_m(inv.paid_minor, cur)} · balance due 应付余额 {_m(inv.balance_due_minor, cur)}"
                ),
                st.body,
            ),
        ]

    return _pdf(f"Invoice {inv.number}", story)


def receipt_pdf(inv: Invoice, payment: dict[str, Any]) -> bytes:
    """The receipt for one payment of an invoice: what was received, how, and what it paid."""

    def story(st: pdf.Styles) -> list[Any]:
        cur = str(payment["currency"])
        rows: list[list[Any]] = [
            ["Receipt 收据", payment["receipt_number"]],
            ["Received 收款时间", f"{payment['received_at']:%Y-%m-%d %H:%M} UTC"],
            ["Method 付款方式", payment["method"]],
            ["Amount received 实收金额", _m(int(payment["amount_minor"]), cur)],
            ["Applied to the invoice 冲抵发票", _m(int(payment["applied_minor"]), cur)],
            ["Kept as credit 转为余额", _m(int(payment["credit_minor"]), cur)],
        ]
        return [
            _p(f"Receipt 收据 {payment['receipt_number']}", st.h1),
            _p(f"For invoice 发票 {inv.number} · ticket 工单 {inv.ticket_id}", st.body),
            Spacer(1, 4 * mm),
            _table(st, rows, [60 * mm, 120 * mm]),
            Spacer(1, 4 * mm),
            _p(
                f"Invoice total 发票合计 {_m(inv.total_minor, inv.currency)} · paid 已付 "
                f"{_m(inv.paid_minor, inv.currency)} · balance due 应付余额 {_m(inv.balance_due_minor, inv.currency)}",
                st.body,
            ),
        ]

    return _pdf(f"Receipt {payment['receipt_number']}", story)


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
    def story(s: pdf.Styles) -> list[Any]:
        rows: list[list[Any]] = [["Date 日期", "Document 单据", "Kind 类型", "Debit 借方", "Credit 贷方"]]
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
        out = [
            _p(f"Statement 对账单 {st.month} · customer 客户 {st.customer_id}", s.h1),
            Spacer(1, 4 * mm),
            _table(s, rows, [25 * mm, 50 * mm, 29 * mm, 38 * mm, 38 * mm]),
            Spacer(1, 4 * mm),
        ]
        for cur, tot in sorted(st.totals.items()):
            out.append(
                _p(
                    f"Balance 余额 {_m(tot['balance_minor'], cur)} (debit 借方 {_m(tot['debit_minor'], cur)}, "
                    f"credit 贷方 {_m(tot['credit_minor'], cur)})",
                    s.body,
                )
            )
        return out

    return _pdf(f"Statement {st.month}", story)
