"""Who may do what: one table of role × action × ownership rule for every route of every service.

Each route names its action (`Authorize("tickets.read")`, see access.py); this table says who may
perform it and how far they reach:

- staff roles listed for an action reach the whole tenant (admin always does);
- `customer` with OWN reaches only objects of the customer id in its token, `technician` with OWN
  only objects assigned to the technician id in its token; anything else answers 404 (existence is
  not disclosed);
- a partner API key reaches the whole tenant for the actions its scopes name;
- `portal` is the customer portal's own short-lived token (two minutes, no person behind it) for
  what it does before anyone is signed in: find the customer a phone or e-mail belongs to and send
  that customer a sign-in code. It reaches exactly the actions marked `portal=True`, nothing else.

A role an action does not list gets 403. tests/security walks every route of the six OpenAPI
documents against this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

STAFF_ROLES = frozenset({"agent", "dispatcher", "manager", "quality", "admin"})
PORTAL_ROLE = "portal"  # the portal's own token, before a customer is signed in
ALL_ROLES = STAFF_ROLES | {"customer", "technician", "partner", PORTAL_ROLE}

# What a partner API key may be configured to do (FIXFLOW_PARTNER_API_KEYS "scopes").
PARTNER_SCOPES = frozenset(
    {
        "tickets:open",  # open tickets (a dealer or carrier reporting a fault)
        "tickets:read",  # read tickets, their timeline and the product catalogue
        "tickets:write",  # supply facts, cancel or reopen tickets
        "billing:read",  # invoices, quotes, the fee schedule, customers' credit and statements
        "pickups:read",  # parts requests and return pickups (a logistics partner)
    }
)


class Reach(Enum):
    TENANT = "tenant"  # every object of the tenant
    CUSTOMER = "customer"  # objects of the principal's customer only
    TECHNICIAN = "technician"  # objects assigned to the principal's technician only


OWNER_ROLES = frozenset({"customer", "technician"})


@dataclass(frozen=True)
class Rule:
    tenant: frozenset[str]  # roles reaching the whole tenant (admin always does)
    own: frozenset[str] = frozenset()  # customer / technician: their own objects only
    partner_scope: str | None = None  # partner keys holding this scope reach the whole tenant
    portal: bool = False  # the portal's own token may perform it (tenant-wide)

    def reach(self, roles: frozenset[str], scopes: frozenset[str] = frozenset()) -> Reach | None:
        """How far a caller with these roles (and partner scopes) reaches; None = not allowed."""
        if "admin" in roles or roles & self.tenant:
            return Reach.TENANT
        if PORTAL_ROLE in roles and self.portal:
            return Reach.TENANT
        if "partner" in roles and self.partner_scope is not None and self.partner_scope in scopes:
            return Reach.TENANT
        if "customer" in roles and "customer" in self.own:
            return Reach.CUSTOMER
        if "technician" in roles and "technician" in self.own:
            return Reach.TECHNICIAN
        return None


def _rule(staff: str, *, own: str = "", also: str = "", partner: str | None = None, portal: bool = False) -> Rule:
    """staff: office roles, tenant-wide; own: customer/technician limited to their own objects;
    also: customer/technician reaching the whole tenant (a catalogue, cashier duty); portal: the
    portal's own token may perform it."""
    roles, owners, extra = frozenset(staff.split()), frozenset(own.split()), frozenset(also.split())
    assert roles <= STAFF_ROLES and owners <= OWNER_ROLES and extra <= OWNER_ROLES, (staff, own, also)
    assert partner is None or partner in PARTNER_SCOPES, partner
    return Rule(tenant=roles | extra, own=owners, partner_scope=partner, portal=portal)


A, D, M = "agent", "dispatcher", "manager"
OFFICE = f"{A} {D} {M}"
AM = f"{A} {M}"
DM = f"{D} {M}"

# action -> rule. Read it as: staff roles (tenant-wide) | own = roles limited to their own objects |
# partner = the scope a partner key needs.
POLICY: dict[str, Rule] = {
    # --- intake ------------------------------------------------------------------------------------
    "tickets.create": _rule(AM, own="customer", partner="tickets:open"),
    "tickets.list": _rule(OFFICE, own="customer", partner="tickets:read"),
    "tickets.read": _rule(OFFICE, own="customer", partner="tickets:read"),
    "tickets.timeline": _rule(OFFICE, own="customer", partner="tickets:read"),
    "tickets.details": _rule(AM),
    "tickets.cancel": _rule(AM, own="customer", partner="tickets:write"),
    "tickets.reopen": _rule(AM, own="customer", partner="tickets:write"),
    "tickets.facts": _rule(AM, own="customer", partner="tickets:write"),
    "tickets.close": _rule(AM),
    "tickets.resolve": _rule(AM),
    "tickets.triage": _rule(AM),
    "tickets.note": _rule(AM),
    "tickets.escalate": _rule(AM),
    "tickets.compensation": _rule(M),
    "tickets.sla_clocks": _rule(OFFICE, own="customer", partner="tickets:read"),
    "customers.create": _rule(AM),
    # the portal finds the customer a phone or e-mail belongs to (answers are masked) before sign-in
    "customers.search": _rule(AM, portal=True),
    "customers.read": _rule(AM, own="customer"),
    "products.create": _rule(AM),
    "products.read": _rule(OFFICE, also="customer", partner="tickets:read"),
    "assets.create": _rule(AM),
    "assets.search": _rule(AM, own="customer"),
    "assets.read": _rule(AM, own="customer"),
    "intake.settings.read": _rule(M),
    "intake.settings.write": _rule(M),
    "intake.kpis": _rule(M),
    # the tenant's suggested fixes (no personal data): what an agent reads out, a customer may try
    "knowledge_base.read": _rule(OFFICE, also="customer", partner="tickets:read"),
    # --- dispatch ----------------------------------------------------------------------------------
    "jobs.list": _rule(OFFICE),
    "jobs.read": _rule(OFFICE, own="customer technician"),
    "jobs.update": _rule(DM),
    "jobs.offers": _rule(OFFICE, own="customer"),
    "appointments.book": _rule(OFFICE, own="customer"),
    "appointments.read": _rule(OFFICE, own="customer technician"),
    "appointments.confirm": _rule(OFFICE, own="customer"),
    "appointments.reschedule": _rule(OFFICE, own="customer"),
    "appointments.cancel": _rule(OFFICE, own="customer"),
    "optimisations.run": _rule(DM),
    "board.read": _rule(OFFICE, own="technician"),  # a technician sees its own visits on the board
    "board.fit": _rule(DM),
    "dispatch.kpis": _rule(DM),
    "skills.create": _rule(DM),
    "skills.list": _rule(OFFICE, also="technician"),
    "technicians.create": _rule(DM),
    "technicians.list": _rule(OFFICE),
    "technicians.read": _rule(OFFICE, own="technician"),
    "technicians.update": _rule(DM),
    "technicians.certify": _rule(DM),
    "technicians.absence": _rule(DM),
    "work_orders.read": _rule(OFFICE, own="technician"),
    "work_orders.decline": _rule(DM, own="technician"),
    "work_orders.en_route": _rule(DM, own="technician"),
    "work_orders.delay": _rule(DM, own="technician"),
    "work_orders.arrive": _rule(DM, own="technician"),
    "work_orders.record": _rule(DM, own="technician"),
    "work_orders.complete": _rule(DM, own="technician"),
    "work_orders.fail": _rule(DM, own="technician"),
    "parts_requests.read": _rule(OFFICE, own="technician", partner="pickups:read"),
    # photos, the customer's signature image, the service report: the work order's technician adds
    # them; its technician, the ticket's customer and the office read them
    "work_orders.attach": _rule(DM, own="technician"),
    "work_orders.checklist": _rule(DM, own="technician"),
    "attachments.read": _rule(OFFICE, own="customer technician"),
    "attachments.list": _rule(OFFICE, own="customer"),
    "checklists.read": _rule(OFFICE, also="technician"),
    "checklists.write": _rule(M),
    # --- billing -----------------------------------------------------------------------------------
    "credit.read": _rule(OFFICE, own="customer", partner="billing:read"),
    "entitlements.create": _rule(M),
    "invoices.list": _rule(OFFICE, own="customer", partner="billing:read"),
    "invoices.read": _rule(OFFICE, own="customer", partner="billing:read"),
    # A technician takes payment on site for whichever invoice the customer presents (cashier duty).
    "invoices.pay": _rule(AM, also="technician"),
    "invoices.apply_credit": _rule(AM, also="technician"),
    "invoices.refund": _rule(M),
    "price_books.create": _rule(M),
    "price_books.read": _rule(OFFICE, also="customer", partner="billing:read"),
    "quotes.create": _rule(OFFICE, also="technician"),
    "quotes.list": _rule(OFFICE, own="customer", partner="billing:read"),
    "quotes.read": _rule(OFFICE, own="customer", partner="billing:read"),
    # A technician records the consent given on site (signature) for the job in front of them.
    "quotes.decide": _rule(AM, own="customer", also="technician"),
    "quotes.invoice": _rule(OFFICE, also="technician"),
    "sales.record": _rule(AM, also="technician"),
    "settlements.read": _rule(OFFICE),
    "statements.read": _rule(OFFICE, own="customer", partner="billing:read"),
    "waivers.request": _rule(OFFICE, also="technician"),
    "waivers.decide": _rule(M),
    # --- survey ------------------------------------------------------------------------------------
    "surveys.list": _rule(AM, own="customer"),
    "surveys.read": _rule(AM, own="customer"),
    "surveys.record_answers": _rule(AM),
    "survey_plan.read": _rule(AM),
    "survey_plan.write": _rule(M),
    "survey_reports.read": _rule(AM),
    "revisits.list": _rule(AM),
    "revisits.record": _rule(AM),
    "revisits.grade": _rule(AM),
    # --- notify ------------------------------------------------------------------------------------
    "deliveries.list": _rule(AM, own="customer"),
    # The portal's one-time sign-in codes, sent for a customer not yet signed in (the portal's own token).
    "sign_in_codes.send": _rule(AM, portal=True),
    "feed.read": _rule(OFFICE, own="customer technician"),
    "preferences.read": _rule(AM),
    "preferences.write": _rule(AM),
    "recipients.write": _rule(M),
    "templates.read": _rule(AM),
    "templates.write": _rule(M),
    "webhooks.create": _rule(M),
    # not a route: who may receive customers' contact details (a webhook asking for them)
    "contacts.read": _rule(AM),
    # --- insight -----------------------------------------------------------------------------------
    "insight.kpis": _rule(M),
    "insight.reports.create": _rule(M),
    "insight.reports.read": _rule(M),
    "quality.faults": _rule("quality manager"),
    "quality.rules.read": _rule("quality manager"),
    "quality.rules.write": _rule("quality manager"),
    "quality.alerts.read": _rule("quality manager"),
    "quality.alerts.step": _rule("quality manager"),
    # --- every service -----------------------------------------------------------------------------
    "audit.read": _rule(""),  # admins only
    # a service's dead letters (/v1/admin/dead-letters and the console's page): admins only
    "dead_letters.read": _rule(""),
    "dead_letters.replay": _rule(""),
    "dead_letters.discard": _rule(""),
}

# Routes that take no principal: health and documents, and the survey answer link (its signed
# token is the credential; rate-limited per tenant and client address).
PUBLIC_OPERATIONS = frozenset({"healthz", "readyz", "asyncapi", "read_public_survey", "answer_public_survey"})


def rule_for(action: str) -> Rule:
    try:
        return POLICY[action]
    except KeyError:
        raise LookupError(f"action {action!r} is not in the policy table") from None
