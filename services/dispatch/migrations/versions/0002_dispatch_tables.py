"""skills, technicians, certifications, absences, jobs, appointments, work orders, parts requests

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fixflow_shared.db import rls_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = (
    "skills",
    "technicians",
    "certifications",
    "absences",
    "jobs",
    "appointments",
    "work_orders",
    "parts_requests",
)


def upgrade() -> None:
    op.create_table(
        "skills",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "technicians",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("home_lat", sa.Float, nullable=False),
        sa.Column("home_lon", sa.Float, nullable=False),
        sa.Column("skills", postgresql.JSONB, nullable=False),
        sa.Column("regions", postgresql.JSONB, nullable=False),
        sa.Column("hours", postgresql.JSONB, nullable=False),
        sa.Column("max_jobs_per_day", sa.Integer, nullable=False),
        sa.Column("van_stock", postgresql.JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_technicians_tenant", "technicians", ["tenant_id"])
    op.create_table(
        "certifications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("technician_id", sa.String(40), sa.ForeignKey("technicians.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("number", sa.String(64)),
        sa.Column("valid_until", TS, nullable=False),
    )
    op.create_index("ix_certifications_technician", "certifications", ["technician_id"])
    op.create_table(
        "absences",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("technician_id", sa.String(40), sa.ForeignKey("technicians.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start_at", TS, nullable=False),
        sa.Column("end_at", TS, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("end_at > start_at", name="ck_absences_ordered"),
    )
    op.create_index("ix_absences_technician", "absences", ["technician_id", "start_at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("required_skills", postgresql.JSONB, nullable=False),
        sa.Column("required_certifications", postgresql.JSONB, nullable=False),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("duration_min", sa.Integer, nullable=False),
        sa.Column("sla_deadline", TS),
        sa.Column("requested_start", TS),
        sa.Column("requested_end", TS),
        sa.Column("earliest", TS),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "ticket_id", name="uq_jobs_tenant_ticket"),
    )
    op.create_index("ix_jobs_tenant_status", "jobs", ["tenant_id", "status"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("technician_id", sa.String(40), sa.ForeignKey("technicians.id"), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("visit_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_appointments_technician", "appointments", ["technician_id", "window_start"])
    op.create_index("ix_appointments_job", "appointments", ["job_id"])
    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("technician_id", sa.String(40), sa.ForeignKey("technicians.id"), nullable=False),
        sa.Column("visit_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("appointment_id", sa.String(40)),
        sa.Column("planned_start", TS),
        sa.Column("planned_end", TS),
        sa.Column("travel_min", sa.Float, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("en_route_at", TS),
        sa.Column("arrived_at", TS),
        sa.Column("arrived_lat", sa.Float),
        sa.Column("arrived_lon", sa.Float),
        sa.Column("diagnosis", sa.Text),
        sa.Column("parts_used", postgresql.JSONB, nullable=False),
        sa.Column("labour_minutes", sa.Integer, nullable=False),
        sa.Column("photos", postgresql.JSONB, nullable=False),
        sa.Column("resolution_code", sa.String(64)),
        sa.Column("sign_off", postgresql.JSONB),
        sa.Column("rating", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("finished_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_work_orders_technician", "work_orders", ["technician_id", "status"])
    op.create_index("ix_work_orders_job", "work_orders", ["job_id"])
    op.create_table(
        "parts_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("work_order_id", sa.String(40), sa.ForeignKey("work_orders.id"), nullable=False),
        sa.Column("parts", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("shipment_id", sa.String(64)),
        sa.Column("eta", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for table in TABLES:
        for stmt in rls_statements(table):
            op.execute(stmt)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
