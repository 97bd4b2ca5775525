"""Checklists per job kind: the form a technician fills in on site (plain Python, no I/O).

A tenant configures one checklist per job kind (fields of four types: text, number, yes/no, photo;
each may be required); a kind the tenant has not configured gets the default below (installation
acceptance for installations, the inspection for everything else). The answers are kept on the
work order; completion is refused while a required field has no answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dispatch.domain.exceptions import RuleViolation

FIELD_TYPES = ("text", "number", "yes_no", "photo")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_FIELDS = 40
MAX_TEXT = 2000


class BadChecklist(RuleViolation):
    title = "Bad checklist"


class ChecklistIncomplete(RuleViolation):
    title = "Checklist incomplete"


@dataclass(frozen=True)
class ChecklistField:
    key: str
    label: str
    type: str
    required: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "type": self.type, "required": self.required}


@dataclass(frozen=True)
class Checklist:
    code: str
    title: str
    fields: tuple[ChecklistField, ...]
    default: bool = False  # no tenant configuration: Fixflow's default for the job kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "default": self.default,
            "fields": [f.as_dict() for f in self.fields],
        }

    @classmethod
    def of(cls, code: str, title: str, fields: list[dict[str, Any]], *, default: bool = False) -> Checklist:
        out, seen = [], set()
        if len(fields) > MAX_FIELDS:
            raise BadChecklist(f"a checklist has at most {MAX_FIELDS} fields")
        for f in fields:
            key, ftype = str(f.get("key") or ""), str(f.get("type") or "")
            if not _KEY.match(key) or key in seen:
                raise BadChecklist(f"field keys are unique lower-case words (a-z, 0-9, _): {key!r}")
            if ftype not in FIELD_TYPES:
                raise BadChecklist(f"a field's type is one of {', '.join(FIELD_TYPES)}: {ftype!r}")
            seen.add(key)
            label = str(f.get("label") or key)[:200]
            out.append(ChecklistField(key, label, ftype, bool(f.get("required", False))))
        return cls(code, title, tuple(out), default)

    def clean(self, answers: dict[str, Any], *, photo_ids: set[str]) -> dict[str, Any]:
        """The answers checked against the fields (unknown keys, wrong types and photos that are not
        this work order's are refused, 422); None or "" clears an answer."""
        by_key = {f.key: f for f in self.fields}
        out: dict[str, Any] = {}
        for key, value in answers.items():
            f = by_key.get(key)
            if f is None:
                raise BadChecklist(f"{self.title} has no field {key!r}", field=key)
            if value is None or value == "":
                out[key] = None
                continue
            if f.type == "text" and isinstance(value, str):
                out[key] = value.strip()[:MAX_TEXT] or None
            elif f.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
            elif f.type == "yes_no" and isinstance(value, bool):
                out[key] = value
            elif f.type == "photo" and isinstance(value, str) and value in photo_ids:
                out[key] = value
            else:
                want = {"text": "text", "number": "a number", "yes_no": "true or false", "photo": "a photo of this job"}
                raise BadChecklist(f"{f.label}: the answer must be {want[f.type]}", field=key)
        return out

    def missing(self, answers: dict[str, Any]) -> list[ChecklistField]:
        """The required fields without an answer (a yes/no answered "no" is an answer)."""
        return [f for f in self.fields if f.required and answers.get(f.key) in (None, "")]

    def require_complete(self, answers: dict[str, Any]) -> None:
        missing = self.missing(answers)
        if missing:
            raise ChecklistIncomplete(
                f"{self.title}: fill in {', '.join(f.label for f in missing)} before completing",
                missing=[f.key for f in missing],
                missing_labels=[f.label for f in missing],
            )


INSPECTION = Checklist.of(
    "inspection",
    "Inspection",
    [
        {"key": "condition", "label": "Condition of the appliance on arrival", "type": "text"},
        {"key": "safety_checked", "label": "Electrical safety checked", "type": "yes_no", "required": True},
        {"key": "working_after", "label": "Appliance works after the visit", "type": "yes_no", "required": True},
        {"key": "photo_after", "label": "Photo after the work", "type": "photo"},
    ],
    default=True,
)

INSTALLATION_ACCEPTANCE = Checklist.of(
    "installation_acceptance",
    "Installation acceptance",
    [
        {"key": "installed_level", "label": "Installed level and stable", "type": "yes_no", "required": True},
        {"key": "test_run_minutes", "label": "Test run (minutes)", "type": "number", "required": True},
        {"key": "customer_instructed", "label": "Customer shown how to use it", "type": "yes_no", "required": True},
        {"key": "photo_installed", "label": "Photo of the installed appliance", "type": "photo", "required": True},
        {"key": "remarks", "label": "Remarks", "type": "text"},
    ],
    default=True,
)


def default_for(job_kind: str) -> Checklist:
    return INSTALLATION_ACCEPTANCE if job_kind == "installation" else INSPECTION
