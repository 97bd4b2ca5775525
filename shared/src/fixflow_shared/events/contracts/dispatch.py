"""Events published by the dispatch service (owned by dispatch; see the service's issue).

Domain events go to fixflow.dispatch.work-orders, keyed by the ticket id (subject = ticket id).
Two integration messages are defined here too, because dispatch is the only party that speaks them:
the parts request dispatch sends to a warehouse system (fixflow.integration.parts-requests) and the
shipment notice dispatch accepts from logistics (fixflow.integration.shipments).

Contents are chosen for the consumers:
- notify: technician.assigned / appointment.* carry ticket_id, technician name and phone, the window;
  technician.en-route also the expected arrival (the customer is told the technician set off).
- billing: work-order.completed carries parts used (part code + quantity), labour minutes, visit
  number, resolution code, the customer sign-off and (v1.1) what the technician recorded for the
  fee schedule: work type, fault origin (quality / customer / unknown), number of adjustments,
  freight to the factory, internal work.
- insight: work-order.completed carries what failed (`fault_cause`, free text) and the team.
- survey (through intake's ticket.resolved): technician.assigned / work-order.completed carry the
  technician's team.
- intake: every event carries ticket_id so the ticket can move (scheduled, in_progress, resolved).
Technician phone numbers are E.164 (fixflow_shared.contacts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, TicketEvent, event

UnassignReason = Literal["declined", "absent", "delayed", "cancelled", "rebalanced", "customer_refused"]
CancelReason = Literal["customer_request", "ticket_cancelled", "technician_unavailable", "duplicate", "other"]
FailureOutcome = Literal["needs_parts", "customer_absent", "escalated"]
PartSource = Literal["van_stock", "warehouse"]
# The fee schedule's vocabulary (billing prices by it): what was done, and whose fault it was.
WorkType = Literal["inspection", "adjustment", "part_replacement", "reinstall", "repair", "internal"]
# Whose fault it was (billing: a product defect is the warranty's, misuse or damage the customer's).
FaultOrigin = Literal["quality", "customer", "unknown"]


class TimeWindow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start: datetime
    end: datetime


class PartLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    part_code: str
    quantity: int = Field(ge=1)
    source: PartSource = "van_stock"
    description: str | None = None


class CustomerSignOff(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    signed_by: str = Field(description="name the customer signed with")
    signed_at: datetime
    signature_sha256: str = Field(description="hash of the signature image; the image stays in dispatch")
    rating: int | None = Field(None, ge=1, le=5, description="on-the-spot rating")


@event("fixflow.dispatch.technician.assigned.v1", topic=topics.DISPATCH_WORK_ORDERS)
class TechnicianAssigned(TicketEvent):
    ticket_id: str
    tenant_id: str
    job_id: str
    work_order_id: str
    technician_id: str
    technician_name: str
    technician_phone: str | None = Field(None, description="for the customer confirmation (notify)")
    window: TimeWindow | None = Field(None, description="planned arrival window, if already booked")
    visit_number: int = 1
    reassignment: bool = False
    previous_technician_id: str | None = None
    explanation: str = Field("", description="why this technician (human readable)")
    assigned_at: datetime
    # --- added within v1 (additive, for insight's team figures) ---
    team_id: str | None = Field(None, description="the technician's team (service station)")


@event("fixflow.dispatch.technician.unassigned.v1", topic=topics.DISPATCH_WORK_ORDERS)
class TechnicianUnassigned(TicketEvent):
    ticket_id: str
    tenant_id: str
    job_id: str
    work_order_id: str
    technician_id: str
    reason: UnassignReason
    detail: str | None = None
    unassigned_at: datetime


@event("fixflow.dispatch.technician.delayed.v1", topic=topics.DISPATCH_WORK_ORDERS)
class TechnicianDelayed(TicketEvent):
    ticket_id: str
    tenant_id: str
    job_id: str
    work_order_id: str
    technician_id: str
    technician_name: str
    technician_phone: str | None = None
    window: TimeWindow | None = None
    new_eta: datetime
    delay_minutes: int
    sla_at_risk: bool = False
    reported_at: datetime


EtaFrom = Literal["position", "previous_stop", "home"]


@event("fixflow.dispatch.technician.en-route.v1", topic=topics.DISPATCH_WORK_ORDERS)
class TechnicianEnRoute(TicketEvent):
    """The technician set off for the visit: notify tells the customer (with the portal link), the
    ticket's timeline shows it, the portal's ticket page shows the ETA."""

    ticket_id: str
    tenant_id: str
    job_id: str
    work_order_id: str
    technician_id: str
    technician_name: str
    technician_phone: str | None = None
    window: TimeWindow | None = None
    departed_at: datetime
    eta: datetime | None = Field(None, description="expected arrival; None when the site has no coordinates")
    eta_from: EtaFrom | None = Field(
        None, description="where the travel time was measured from: the position the app sent, the previous stop, home"
    )
    travel_minutes: int | None = Field(None, ge=0)


@event("fixflow.dispatch.appointment.booked.v1", topic=topics.DISPATCH_WORK_ORDERS)
class AppointmentBooked(TicketEvent):
    ticket_id: str
    tenant_id: str
    appointment_id: str
    job_id: str
    technician_id: str
    technician_name: str
    technician_phone: str | None = None
    window: TimeWindow
    visit_number: int = 1
    booked_at: datetime


@event("fixflow.dispatch.appointment.confirmed.v1", topic=topics.DISPATCH_WORK_ORDERS)
class AppointmentConfirmed(TicketEvent):
    ticket_id: str
    tenant_id: str
    appointment_id: str
    window: TimeWindow
    confirmed_at: datetime


@event("fixflow.dispatch.appointment.rescheduled.v1", topic=topics.DISPATCH_WORK_ORDERS)
class AppointmentRescheduled(TicketEvent):
    ticket_id: str
    tenant_id: str
    appointment_id: str
    job_id: str
    technician_id: str
    technician_name: str
    technician_phone: str | None = None
    previous_window: TimeWindow
    window: TimeWindow
    reason: str
    visit_number: int = 1
    rescheduled_at: datetime


@event("fixflow.dispatch.appointment.cancelled.v1", topic=topics.DISPATCH_WORK_ORDERS)
class AppointmentCancelled(TicketEvent):
    ticket_id: str
    tenant_id: str
    appointment_id: str
    job_id: str
    window: TimeWindow
    reason: CancelReason
    detail: str | None = None
    cancelled_at: datetime


@event("fixflow.dispatch.visit.started.v1", topic=topics.DISPATCH_WORK_ORDERS)
class VisitStarted(TicketEvent):
    ticket_id: str
    tenant_id: str
    work_order_id: str
    technician_id: str
    visit_number: int
    arrived_at: datetime
    on_time: bool | None = Field(None, description="arrived within the booked window")


@event("fixflow.dispatch.work-order.completed.v1", topic=topics.DISPATCH_WORK_ORDERS, minor=2)
class WorkOrderCompleted(TicketEvent):
    """What billing needs to settle the visit (parts + labour) and survey needs to schedule."""

    ticket_id: str
    tenant_id: str
    work_order_id: str
    job_id: str
    technician_id: str
    visit_number: int
    parts_used: list[PartLine] = Field(default_factory=list)
    labour_minutes: int = Field(ge=0)
    resolution_code: str
    diagnosis: str | None = None
    sign_off: CustomerSignOff
    first_time_fix: bool
    completed_at: datetime
    # --- v1.1: what the technician recorded at completion, for insight (what failed, the team) and
    # billing (what was done, whose fault, adjustments, freight, internal work) ---
    fault_cause: str | None = Field(None, description="what failed, e.g. compressor, pcb, misuse (quality reports)")
    team_id: str | None = Field(None, description="the technician's team (service station)")
    work_type: WorkType | None = Field(
        None, description="what was done; absent (before v1.1): billing classifies the resolution code"
    )
    fault_origin: FaultOrigin | None = Field(
        None,
        description="whose fault: quality (a product defect: the warranty pays), customer (misuse, damage) or unknown",
    )
    adjustments: int = Field(
        1, ge=1, description="adjustments made (drawers, hinges, levelling): billed per adjustment"
    )
    freight: bool = Field(False, description="the unit goes back to the factory: one-way freight is billed")
    internal: bool = Field(False, description="internal work (inspection, administration): nothing is billed")
    # --- v1.2: the service report (PDF) made at completion, listed on the customer's ticket page ---
    service_report_id: str | None = Field(
        None, description="the report's attachment id in dispatch (GET /v1/attachments/{id}); absent before v1.2"
    )


@event("fixflow.dispatch.work-order.failed.v1", topic=topics.DISPATCH_WORK_ORDERS)
class WorkOrderFailed(TicketEvent):
    ticket_id: str
    tenant_id: str
    work_order_id: str
    job_id: str
    technician_id: str
    visit_number: int
    outcome: FailureOutcome
    reason: str | None = None
    labour_minutes: int = 0
    parts_used: list[PartLine] = Field(default_factory=list)
    follow_up_needed: bool = True
    failed_at: datetime


@event("fixflow.dispatch.parts.requested.v1", topic=topics.DISPATCH_WORK_ORDERS)
class PartsRequested(TicketEvent):
    ticket_id: str
    tenant_id: str
    parts_request_id: str
    work_order_id: str
    parts: list[PartLine]
    requested_at: datetime


# --- integration messages (partners) -------------------------------------------------------------


@event("fixflow.dispatch.parts-request.submitted.v1", topic=topics.INTEGRATION_PARTS_REQUESTS)
class PartsRequestSubmitted(TicketEvent):
    """Sent to the warehouse system: please ship these parts for this ticket."""

    ticket_id: str
    tenant_id: str
    parts_request_id: str
    parts: list[PartLine]
    deliver_to: Literal["technician", "customer"] = "technician"
    technician_id: str | None = None
    needed_by: datetime | None = None
    requested_at: datetime


@event("fixflow.integration.shipment.updated.v1", topic=topics.INTEGRATION_SHIPMENTS)
class ShipmentUpdated(Event):
    """Accepted from logistics: the state and ETA of a shipment answering a parts request."""

    parts_request_id: str
    ticket_id: str | None = None
    shipment_id: str
    status: Literal["picked", "shipped", "delivered", "cancelled"]
    eta: datetime | None = None
    carrier: str | None = None
    updated_at: datetime


# --- returns (退换货): pickup by logistics, receipt at the warehouse (added within v1, new types) -----


@event("fixflow.dispatch.pickup-request.submitted.v1", topic=topics.INTEGRATION_PARTS_REQUESTS)
class PickupRequestSubmitted(TicketEvent):
    """Sent to logistics: collect a returned item from the customer and bring it to the warehouse.

    Answered on fixflow.integration.shipments with `shipment.updated.v1`, `parts_request_id` =
    this `pickup_request_id`: `picked` = collected from the customer, `delivered` = received at the
    warehouse (which releases the refund). The pickup address is not in the message (PII): logistics
    reads it with its partner API key by `site.address_id`, or uses the region/coordinates."""

    ticket_id: str
    tenant_id: str
    pickup_request_id: str
    customer_id: str | None = None
    asset_id: str | None = None
    product_model: str | None = None
    serial: str | None = None
    site: dict | None = Field(None, description="address_id, region, lat, lon of the pickup (no street address)")  # type: ignore[type-arg]
    deliver_to: Literal["warehouse"] = "warehouse"
    return_window_ends_on: str | None = Field(None, description="ISO date the return window closes")
    requested_at: datetime


@event("fixflow.dispatch.return.received.v1", topic=topics.DISPATCH_WORK_ORDERS)
class ReturnReceived(TicketEvent):
    """The returned item reached the warehouse (logistics reported the pickup delivered): intake
    resolves the return ticket, billing refunds the sale minus the customer's share."""

    ticket_id: str
    tenant_id: str
    pickup_request_id: str
    shipment_id: str
    carrier: str | None = None
    customer_id: str | None = None
    asset_id: str | None = None
    received_at: datetime
