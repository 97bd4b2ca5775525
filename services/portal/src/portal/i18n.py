"""The portal's two languages (zh-CN, en): the machinery is fixflow_shared.web.i18n; pages are
written in English and translated by locales/zh-CN.json, and a test checks every text has its
translation. Codes the services send are shown through `label()`."""

from __future__ import annotations

from pathlib import Path

from fixflow_shared.web.i18n import LOCALES, Catalogue, negotiate

COOKIE = "portal_lang"
_DIR = Path(__file__).parent / "locales"

# English names of the codes the services send, as a customer or a technician reads them.
LABELS: dict[str, str] = {
    "repair": "Repair",
    "installation": "Installation",
    "maintenance": "Maintenance",
    "return": "Return",
    "complaint": "Complaint",
    "consultation": "Question",
    "in_warranty": "In warranty",
    "out_of_warranty": "Out of warranty",
    "returnable": "Returnable",
    "under_contract": "Under contract",
    "unknown": "Not known yet",
    "assigned": "Assigned",
    "en_route": "On the way",
    "on_site": "On site",
    "completed": "Completed",
    "needs_parts": "Needs parts",
    "customer_absent": "Customer absent",
    "escalated": "Escalated",
    "unassigned": "Reassigned",
    "issued": "Waiting for your answer",
    "accepted": "Accepted",
    "rejected": "Declined",
    "expired": "Expired",
    "paid": "Paid",
    "partially_paid": "Partly paid",
    "van_stock": "Van stock",
    "warehouse": "Warehouse",
    "repaired": "Repaired",
    "part_replaced": "Part replaced",
    "adjusted": "Adjusted",
    "installed": "Installed",
    "maintained": "Maintained",
    "no_fault_found": "No fault found",
}

_CATALOGUE = Catalogue(_DIR, LABELS)
catalogue = _CATALOGUE.table
translator = _CATALOGUE.translator
labeller = _CATALOGUE.labeller
__all__ = ["COOKIE", "LABELS", "LOCALES", "catalogue", "labeller", "negotiate", "translator"]
