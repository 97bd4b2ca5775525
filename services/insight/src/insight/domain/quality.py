"""The quality feedback loop (pure): faults by product model, fault cause, part and production
batch; per-tenant thresholds; and the rectification workflow of an alert (质量信息反馈单).

A fault is a completed visit on a repair ticket, unless the technician recorded the fault as the
customer's (`fault_origin` = customer: misuse, damage). A rule counts the faults of one key (a model, a
cause, a part, a batch, or a model and cause together) in a window of days ending at the latest
such fault, leaving out tickets an earlier alert of the same rule and key already reported; when
the count reaches the threshold, an alert is raised with those tickets as its evidence. Windows
end at event time, never at the wall clock, so a replay of the same events raises nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from fixflow_shared.errors import Conflict, Unprocessable
from insight.domain.facts import Facts, epoch_day, lww_value

Dimension = Literal["product_model", "fault_cause", "part", "production_batch", "product_model_fault_cause"]
DIMENSIONS: tuple[str, ...] = ("product_model", "fault_cause", "part", "production_batch", "product_model_fault_cause")
EVIDENCE_IN_EVENT = 50


class BadRule(Unprocessable):
    title = "Invalid quality rule"


@dataclass(frozen=True)
class Rule:
    id: str
    dimension: str
    threshold: int
    window_days: int = 30

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise BadRule(f"dimension must be one of {', '.join(DIMENSIONS)}")
        if self.threshold < 1 or not 1 <= self.window_days <= 366:
            raise BadRule("threshold >= 1 and window_days in 1..366")


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("model-cause-30d", "product_model_fault_cause", threshold=5, window_days=30),
    Rule("batch-30d", "production_batch", threshold=5, window_days=30),
    Rule("part-30d", "part", threshold=10, window_days=30),
)


def rules_from(config: list[dict[str, Any]] | None) -> tuple[Rule, ...]:
    return DEFAULT_RULES if config is None else tuple(Rule(**r) for r in config)


Fault = tuple[str, str, date, str, str]  # dimension, key, day, ticket id, visit


def faults_of(ticket_id: str, f: Facts) -> set[Fault]:
    """The faults of one ticket (each completed visit of a repair ticket that the technician did
    not put down to the customer), under every key they count for: the model, the cause, each
    part, the batch, and model|cause."""
    if f.get("kind") != "repair":
        return set()
    triage = lww_value(f, "triage") or {}
    model, batch = triage.get("model") or f.get("product_model"), f.get("production_batch")
    out: set[Fault] = set()
    for visit, c in f.get("completions", {}).items():
        if c.get("at") is None or c.get("fault_origin") == "customer":
            continue  # misuse or damage is the customer's, not the product's
        day, cause = epoch_day(c["at"]), c.get("fault_cause")
        keys = [("product_model", model), ("fault_cause", cause), ("production_batch", batch)]
        keys += [("part", p) for p in c.get("parts", [])]
        if model and cause:
            keys.append(("product_model_fault_cause", f"{model}|{cause}"))
        out |= {(dim, key, day, ticket_id, visit) for dim, key in keys if key}
    return out


@dataclass(frozen=True)
class Breach:
    rule: Rule
    key: str
    window_start: date
    window_end: date
    ticket_ids: tuple[str, ...]


def evaluate(rule: Rule, key: str, faults: list[tuple[str, date]]) -> Breach | None:
    """`faults` = (ticket id, day) of the key not reported yet; a breach when the window ending at
    the latest of them holds `threshold` tickets or more."""
    if not faults:
        return None
    end = max(day for _, day in faults)
    start = end - timedelta(days=rule.window_days - 1)
    tickets = sorted({t for t, day in faults if start <= day <= end})
    if len(tickets) < rule.threshold:
        return None
    return Breach(rule, key, start, end, tuple(tickets))


# --- rectification (质量信息反馈单) -------------------------------------------------------------------

STEPS = ("root_cause", "plan", "done", "customers_informed", "archived")
STATUS_AFTER = {
    "root_cause": "root_cause_found",
    "plan": "rectifying",
    "done": "rectified",
    "customers_informed": "customers_informed",
    "archived": "archived",
}


class StepRefused(Conflict):
    """The rectification steps go in order, each once."""

    title = "Rectification step refused"


def check_step(recorded: list[str], step: str, *, note: str | None, owner: str | None, due_on: date | None) -> str:
    """The alert's status after `step`; steps go in order, each once; a plan names its owner and due date."""
    if step not in STEPS:
        raise StepRefused(f"step must be one of {', '.join(STEPS)}")
    expected = STEPS[len(recorded)] if len(recorded) < len(STEPS) else None
    if expected is None:
        raise StepRefused("the alert is archived: no further steps")
    if step != expected:
        raise StepRefused(f"next step is {expected}, not {step}")
    if step in ("root_cause", "plan") and not (note or "").strip():
        raise StepRefused(f"{step} needs a note (the finding or the plan)")
    if step == "plan" and (not owner or due_on is None):
        raise StepRefused("a rectification plan needs an owner and a due date")
    return STATUS_AFTER[step]
