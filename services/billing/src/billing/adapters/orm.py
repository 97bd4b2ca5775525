"""Tables of billing's database, as its migrations build them (indexes, constraints and server defaults
included): tests/contract/test_migrations_match_models.py fails on any difference."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.deadletters import add_dead_letter_table

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
dead_letter_actions = add_dead_letter_table(metadata)  # operators' replays and discards
audit_log = add_audit_table(metadata)

price_books = Table(
    "price_books",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("config", JSONB, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "version", name="pk_price_books"),
)

ticket_facts = Table(
    "ticket_facts",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("asset_id", String(64)),
    Column("kind", String(32)),
    Column("warranty_status", String(32), nullable=False),
    Column("facts", JSONB, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "ticket_id", name="pk_ticket_facts"),
)

known_customers = Table(
    "known_customers",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "customer_id", name="pk_known_customers"),
)  # 0009: customers billing learned of from intake (customer.registered, ticket.opened)

entitlements = Table(
    "entitlements",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("asset_id", String(64)),
    Column("kind", String(20), nullable=False),  # contract | package | warranty_card
    Column("terms", JSONB, nullable=False),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_entitlements_customer", "tenant_id", "customer_id", "kind"),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("charge", JSONB, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("consent", JSONB),
)

document_counters = Table(
    "document_counters",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("series", String(8), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last_value", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "series", "year", name="pk_document_counters"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("number", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("work_order_id", String(64)),
    Column("service_kind", String(1), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("price_book_version", Integer, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "number", name="uq_invoices_tenant_number"),
    UniqueConstraint("tenant_id", "work_order_id", name="uq_invoices_tenant_work_order"),
    Index("ix_invoices_customer_issued", "tenant_id", "customer_id", "issued_at"),
    CheckConstraint("total_minor >= 0", name="total_not_negative"),
    CheckConstraint("paid_minor >= 0 AND paid_minor <= total_minor", name="paid_range"),
)

waived_charges = Table(
    "waived_charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("work_order_id", String(64)),
    Column("service_kind", String(1), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("waived_minor", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", String(80), nullable=False),
    Column("approved_by", String(200)),
    Column("lines", JSONB, nullable=False),
    Column("waived_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "work_order_id", name="uq_waived_charges_tenant_work_order"),
)

waivers = Table(
    "waivers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3), nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("approved_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_waivers_ticket", "tenant_id", "ticket_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("invoice_id", String(40), nullable=False),
    Column("customer_id", String(64)),
    Column("method", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("applied_minor", BigInteger, nullable=False),
    Column("credit_minor", BigInteger, nullable=False),
    Column("receipt_number", String(40), nullable=False),
    Column("reference", String(200)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_payments_invoice", "tenant_id", "invoice_id"),
    CheckConstraint("amount_minor > 0", name="positive"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("invoice_id", String(40), nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("customer_share_minor", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("credit_note_id", String(40), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("number", String(32), nullable=False),
    Column("invoice_id", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "number", name="uq_credit_notes_tenant_number"),
)


pending_settlements = Table(
    "pending_settlements",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("work_order_id", String(64), nullable=False),
    Column("ticket_id", String(40), nullable=False),
    Column("waiting_for", String(32), nullable=False),  # ticket_facts | waiver_decision
    Column("status", String(16), nullable=False),  # waiting | failed
    Column("work", JSONB, nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("causation", JSONB),  # the work-order.completed envelope (headers + data)
    Column("error", Text),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "work_order_id", name="pk_pending_settlements"),
    Index("ix_pending_settlements_ticket", "tenant_id", "ticket_id"),
)

customer_credits = Table(
    "customer_credits",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "customer_id", "currency", name="pk_customer_credits"),
    CheckConstraint("balance_minor >= 0", name="not_negative"),
)

credit_entries = Table(
    "credit_entries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("payment_id", String(40), nullable=False),
    Column("invoice_id", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_credit_entries_customer", "tenant_id", "customer_id", "at"),
    CheckConstraint("amount_minor <> 0", name="not_zero"),
)

contract_visit_usage = Table(
    "contract_visit_usage",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("contract_id", String(40), nullable=False),
    Column("year_start", Date, nullable=False),
    Column("visits_used", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "contract_id", "year_start", name="pk_contract_visit_usage"),
    CheckConstraint("visits_used >= 0", name="not_negative"),
)
