"""Tables of dispatch's database, as its migrations build them (indexes, constraints and server
defaults included): tests/contract/test_migrations_match_models.py fails on any difference.

Every business table carries tenant_id and is protected by row-level security."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.deadletters import add_dead_letter_table

metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)
dead_letter_actions = add_dead_letter_table(metadata)  # operators' replays and discards
audit_log = add_audit_table(metadata)

skills = Table(
    "skills",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

technicians = Table(
    "technicians",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("phone", String(40)),
    Column("home_lat", Float, nullable=False),
    Column("home_lon", Float, nullable=False),
    Column("skills", JSONB, nullable=False),
    Column("regions", JSONB, nullable=False),
    Column("hours", JSONB, nullable=False),
    Column("max_jobs_per_day", Integer, nullable=False),
    Column("van_stock", JSONB, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("team_id", String(64)),
    Column("depot_lat", Float),
    Column("depot_lon", Float),
    Index("ix_technicians_tenant", "tenant_id"),
)

certifications = Table(
    "certifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("technician_id", String(40), ForeignKey("technicians.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("number", String(64)),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Index("ix_certifications_technician", "technician_id"),
)

absences = Table(
    "absences",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("technician_id", String(40), ForeignKey("technicians.id", ondelete="CASCADE"), nullable=False),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_absences_technician", "technician_id", "start_at"),
    CheckConstraint("end_at > start_at", name="ordered"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("customer_id", String(64)),  # 0010: whose ticket (a customer reaches its own jobs only)
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("priority", String(4), nullable=False),
    Column("required_skills", JSONB, nullable=False),
    Column("required_certifications", JSONB, nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("duration_min", Integer, nullable=False),
    Column("sla_deadline", DateTime(timezone=True)),
    Column("requested_start", DateTime(timezone=True)),
    Column("requested_end", DateTime(timezone=True)),
    Column("earliest", DateTime(timezone=True)),
    Column("visits", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("region", String(32)),
    Column("crew_size", Integer, nullable=False, server_default=text("1")),
    Column("parts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("parts_holder", String(40)),
    Column("parts_eta", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "ticket_id", name="uq_jobs_tenant_ticket"),
    Index("ix_jobs_tenant_status", "tenant_id", "status"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("technician_id", String(40), ForeignKey("technicians.id"), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("visit_number", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_appointments_technician", "technician_id", "window_start"),
    Index("ix_appointments_job", "job_id"),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("job_id", String(40), ForeignKey("jobs.id"), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("technician_id", String(40), ForeignKey("technicians.id"), nullable=False),
    Column("visit_number", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("appointment_id", String(40)),
    Column("planned_start", DateTime(timezone=True)),
    Column("planned_end", DateTime(timezone=True)),
    Column("travel_min", Float, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("en_route_at", DateTime(timezone=True)),
    Column("arrived_at", DateTime(timezone=True)),
    Column("arrived_lat", Float),
    Column("arrived_lon", Float),
    Column("diagnosis", Text),
    Column("parts_used", JSONB, nullable=False),
    Column("labour_minutes", Integer, nullable=False),
    Column("photos", JSONB, nullable=False),
    Column("resolution_code", String(64)),
    Column("sign_off", JSONB),
    Column("rating", Integer),
    Column("note", Text),
    Column("finished_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # what the technician recorded for the fee schedule at completion (work type, fault cause, ...)
    Column("completion", JSONB),
    Column("checklist_answers", JSONB),  # the job kind's checklist as answered, field key -> value
    # the expected arrival computed when the technician set off, and what it was measured from
    Column("eta", DateTime(timezone=True)),
    Column("eta_from", String(16)),
    Index("ix_work_orders_technician", "technician_id", "status"),
    Index("ix_work_orders_job", "job_id"),
)

parts_requests = Table(
    "parts_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("job_id", String(40), ForeignKey("jobs.id")),  # NULL for a return pickup (no visit)
    Column("work_order_id", String(40), ForeignKey("work_orders.id")),
    Column("parts", JSONB, nullable=False),
    Column("status", String(32), nullable=False),
    Column("shipment_id", String(64)),
    Column("eta", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The signature drawn by the customer, the technician's photos and the service report: kept here
# behind the AttachmentStore port (adapters/attachment_rows.py) until an object store replaces it.
attachments = Table(
    "attachments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("work_order_id", String(40), ForeignKey("work_orders.id"), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("caption", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "work_order_id", "kind", "sha256", name="uq_attachments_content"),
    CheckConstraint("size <= 2097152", name="size"),
    Index("ix_attachments_ticket", "ticket_id"),
)

# A tenant's checklist for a job kind (none configured: the defaults of domain/checklists.py).
checklists = Table(
    "checklists",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("job_kind", String(32), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("fields", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

TENANT_TABLES = (
    "skills",
    "technicians",
    "certifications",
    "absences",
    "jobs",
    "appointments",
    "work_orders",
    "parts_requests",
    "attachments",
    "checklists",
)

# Without RLS on purpose: the periodic optimiser lists tenants across the database (ids only).
planning_tenants = Table(
    "planning_tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
