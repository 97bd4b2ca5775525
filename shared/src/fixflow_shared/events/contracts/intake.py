"""Events published by the intake service on fixflow.intake.tickets (key = ticket id).

Flow: ticket.opened (always first; carries warranty/return determination and the first triage)
-> ticket.waiting-customer (facts missing) | ticket.triaged (priority, path, SLA deadlines;
dispatch makes a job when path == "on_site") -> ... -> ticket.resolved -> ticket.closed;
ticket.reopened (agent or dissatisfaction) is followed by a fresh ticket.triaged; ticket.cancelled.
sla.at-risk / sla.breached per clock; complaint.opened / complaint.escalated for complaints.

Contact fields (email, phone, locale) are carried only where notify or survey must reach the
customer; everything else references customers and assets by id. Phone numbers are E.164 and
e-mail addresses normalised by fixflow_shared.contacts, so consumers compare them as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, TicketEvent, event

TicketKind = Literal["repair", "installation", "maintenance", "return", "complaint", "consultation"]
Channel = Literal["phone", "email", "web", "wechat", "walk_in", "partner"]
Priority = Literal["P1", "P2", "P3", "P4"]
ResolutionPath = Literal["remote", "on_site", "send_in"]
WarrantyStatus = Literal["in_warranty", "out_of_warranty", "return_window_open", "not_returnable", "unknown"]
SlaClockName = Literal[
    "first_response", "on_site_arrival", "resolution", "complaint_record", "complaint_contact", "complaint_fix"
]


class WarrantyDecision(BaseModel):
    """What decided the warranty / return status, with the dates (for billing and the agent)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: WarrantyStatus
    rule: str = Field(description="machine-readable rule id, e.g. warranty.card_months, return.window")
    reason: str = Field(description="human readable explanation")
    decided_on: date
    purchase_date: date | None = None
    warranty_ends_on: date | None = None
    return_window_ends_on: date | None = None
    returnable: bool | None = None
    non_returnable_reasons: list[str] = Field(default_factory=list)


class TimeWindow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start: datetime
    end: datetime


class Site(BaseModel):
    """Where on-site work happens: ids and coordinates for routing, no street address."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    address_id: str | None = None
    region: str | None = Field(None, description="province/region code, e.g. CN-31")
    in_province: bool | None = Field(None, description="inside the tenant's service province")
    lat: float | None = None
    lon: float | None = None


class SlaDeadlines(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    first_response_due: datetime | None = None
    on_site_arrival_due: datetime | None = None
    resolution_due: datetime | None = None


@event("fixflow.intake.ticket.opened.v1", topic=topics.INTAKE_TICKETS)
class TicketOpened(TicketEvent):
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    asset_id: str | None = None
    kind: TicketKind
    channel: Channel
    symptom: str
    priority: Priority | None = None
    warranty_status: str | None = Field(
        None, description="in_warranty | out_of_warranty | return_window_open | not_returnable | unknown"
    )
    opened_at: datetime
    # Contact references, not raw PII: notify resolves recipients from its own directory.
    contact_email: str | None = Field(None, description="where the acknowledgement goes, if allowed")
    contact_phone: str | None = None
    locale: str = "zh-CN"
    # --- added within v1 (additive) ---
    warranty: WarrantyDecision | None = None
    customer_grade: str | None = Field(None, description="A | B | C | VIP")
    product_id: str | None = None
    product_model: str | None = None
    serial: str | None = None
    category: str | None = None
    path: ResolutionPath | None = None
    requested_window: TimeWindow | None = None
    site: Site | None = None
    missing_facts: list[str] = Field(default_factory=list, description="non-empty: waiting_customer follows")
    complaint_level: int | None = Field(None, ge=1, le=4)
    original_ticket_id: str | None = Field(None, description="for complaints: the ticket complained about")
    sla: SlaDeadlines | None = None
    # --- added within v1 (additive, for insight's quality loop) ---
    production_batch: str | None = Field(None, description="the asset's production batch (lot), if known")


@event("fixflow.intake.ticket.triaged.v1", topic=topics.INTAKE_TICKETS)
class TicketTriaged(TicketEvent):
    ticket_id: str
    tenant_id: str
    kind: TicketKind
    customer_id: str | None = None
    customer_grade: str | None = None
    asset_id: str | None = None
    product_model: str | None = None
    category: str
    priority: Priority
    path: ResolutionPath
    required_skills: list[str] = Field(default_factory=list)
    estimated_minutes: int = Field(60, ge=0)
    suggested_fix: str | None = Field(None, description="knowledge-base article id tried first (remote)")
    warranty_status: WarrantyStatus | None = None
    requested_window: TimeWindow | None = None
    site: Site | None = None
    sla: SlaDeadlines | None = None
    round: int = Field(1, description="1 on opening, 2.. after each reopen")
    triaged_by: Literal["rules", "agent"] = "rules"
    triaged_at: datetime


@event("fixflow.intake.ticket.waiting-customer.v1", topic=topics.INTAKE_TICKETS)
class TicketWaitingCustomer(TicketEvent):
    ticket_id: str
    tenant_id: str
    missing_facts: list[str] = Field(description="e.g. product_model, purchase_date, address")
    # notify asks the customer for what is missing
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    since: datetime


@event("fixflow.intake.ticket.resolved.v1", topic=topics.INTAKE_TICKETS, minor=1)
class TicketResolved(TicketEvent):
    ticket_id: str
    tenant_id: str
    kind: TicketKind
    customer_id: str | None = None
    customer_grade: str | None = None
    asset_id: str | None = None
    priority: Priority | None = None
    path: ResolutionPath | None = None
    resolution: str = Field(description="e.g. remote_fix, work_order_completed, agent")
    technician_id: str | None = None
    major: bool = Field(False, description="P1/P2 or complaint: survey follows up again within a month")
    resolution_on_time: bool | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    resolved_at: datetime
    # --- v1.1 ---
    team_id: str | None = Field(
        None, description="team of the technician who did the work (dispatch's), for satisfaction by team (survey)"
    )


@event("fixflow.intake.ticket.closed.v1", topic=topics.INTAKE_TICKETS)
class TicketClosed(TicketEvent):
    ticket_id: str
    tenant_id: str
    reason: str = Field(description="agent | survey_satisfied | survey_expired")
    closed_at: datetime


@event("fixflow.intake.ticket.reopened.v1", topic=topics.INTAKE_TICKETS)
class TicketReopened(TicketEvent):
    ticket_id: str
    tenant_id: str
    reason: str
    cause: Literal["agent", "customer", "dissatisfaction"] = "agent"
    round: int = Field(2, description="2 for the first reopen")
    reopened_at: datetime


@event("fixflow.intake.ticket.cancelled.v1", topic=topics.INTAKE_TICKETS)
class TicketCancelled(TicketEvent):
    ticket_id: str
    tenant_id: str
    reason: str
    duplicate_of: str | None = None
    cancelled_at: datetime


@event("fixflow.intake.sla.at-risk.v1", topic=topics.INTAKE_TICKETS)
class SlaAtRisk(TicketEvent):
    ticket_id: str
    tenant_id: str
    clock: SlaClockName
    priority: Priority | None = None
    kind: TicketKind | None = None
    due_at: datetime
    share_elapsed: float = Field(description="elapsed / target when raised, e.g. 0.8")
    raised_at: datetime
    # --- added within v1 (additive, for insight) ---
    started_at: datetime | None = Field(None, description="when the clock started: names the clock with its ticket")


@event("fixflow.intake.sla.breached.v1", topic=topics.INTAKE_TICKETS)
class SlaBreached(TicketEvent):
    ticket_id: str
    tenant_id: str
    clock: SlaClockName
    priority: Priority | None = None
    kind: TicketKind | None = None
    due_at: datetime
    raised_at: datetime
    # --- added within v1 (additive, for insight) ---
    started_at: datetime | None = Field(None, description="when the clock started: names the clock with its ticket")


@event("fixflow.intake.sla.clock-stopped.v1", topic=topics.INTAKE_TICKETS)
class SlaClockStopped(TicketEvent):
    """A clock stopped with a verdict (a cancelled ticket's clocks are void: no event). Effective
    business time is measured by intake over the tenant's calendar, pauses excluded, so reports
    can recompute attainment (elapsed <= target) without the calendars."""

    ticket_id: str
    tenant_id: str
    clock: SlaClockName
    priority: Priority | None = None
    kind: TicketKind | None = None
    round: int = 1
    started_at: datetime
    stopped_at: datetime
    due_at: datetime | None = None
    target_s: float = Field(ge=0, description="target in business seconds")
    elapsed_s: float = Field(description="effective business seconds from start to stop, pauses excluded")
    met: bool


@event("fixflow.intake.complaint.opened.v1", topic=topics.INTAKE_TICKETS)
class ComplaintOpened(TicketEvent):
    ticket_id: str = Field(description="the complaint's own ticket id")
    tenant_id: str
    original_ticket_id: str | None = None
    customer_id: str | None = None
    level: int = Field(ge=1, le=4)
    compensation_requested: bool = False
    compensation_amount_minor: int | None = Field(None, ge=0)
    currency: str = "CNY"
    escalated_to: str | None = Field(None, description="role, e.g. manager, when opened at a serious level")
    record_due: datetime | None = None
    contact_due: datetime | None = None
    fix_due: datetime | None = None
    source: Literal["agent", "customer", "dissatisfaction"] = "agent"
    opened_at: datetime


@event("fixflow.intake.complaint.escalated.v1", topic=topics.INTAKE_TICKETS)
class ComplaintEscalated(TicketEvent):
    ticket_id: str
    tenant_id: str
    from_level: int = Field(ge=1, le=4)
    level: int = Field(ge=1, le=4)
    to_role: str = "manager"
    reason: str
    respond_by: datetime
    compensation_needs_approval: bool = False
    escalated_at: datetime


@event("fixflow.intake.customer.registered.v1", topic=topics.INTAKE_TICKETS)
class CustomerRegistered(Event):
    """A customer entered intake's directory (its id only, no PII; key and subject = the customer
    id). Billing accepts sales and entitlements only for customers it learned of, this way or
    from a ticket."""

    customer_id: str
    tenant_id: str
    registered_at: datetime
