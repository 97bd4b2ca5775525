"""Triage: category, priority P1–P4 from severity × urgency × customer grade, resolution path,
and a small knowledge base of symptom → known fix steps that suggests a remote fix first.

Everything is data (`TriageRules`, `Article`) so a tenant can override it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    keywords: tuple[str, ...]
    category: str
    steps: tuple[str, ...]
    remote: bool = True  # the customer can follow the steps with phone guidance

    def matches(self, text: str) -> int:
        t = text.lower()
        return sum(1 for k in self.keywords if k.lower() in t)


DEFAULT_KB: tuple[Article, ...] = (
    Article(
        "KB-001",
        "Appliance has no power",
        ("no power", "won't turn on", "not turning on", "不通电", "开不了机", "无法开机"),
        "electrical",
        (
            "Check the plug and the socket with another device",
            "Reset the circuit breaker",
            "Hold the power button for 10 seconds",
        ),
    ),
    Article(
        "KB-002",
        "Washer does not drain",
        ("not drain", "doesn't drain", "water stays", "不排水", "排水"),
        "drainage",
        ("Clean the drain filter behind the front flap", "Check the drain hose for kinks"),
    ),
    Article(
        "KB-003",
        "Error code shown",
        ("error code", "e1", "e2", "e3", "故障码", "报错"),
        "electronics",
        ("Unplug for 5 minutes", "Restart and run the self test (hold START 5 s)"),
    ),
    Article(
        "KB-004",
        "Remote control not responding",
        ("remote", "遥控"),
        "accessory",
        ("Replace the batteries", "Re-pair: hold MODE + TEMP for 3 s"),
    ),
    Article(
        "KB-005",
        "Fridge not cooling",
        ("not cooling", "not cold", "不制冷", "不冷"),
        "cooling",
        ("Check the thermostat setting", "Leave 10 cm behind the unit for ventilation", "Wait 24 h after moving"),
        remote=True,
    ),
    Article(
        "KB-006",
        "Water leaking",
        ("leak", "漏水", "渗水"),
        "leak",
        ("Close the water inlet valve", "Dry the area; a technician visit is needed"),
        remote=False,
    ),
)

CRITICAL_WORDS = (
    "fire",
    "smoke",
    "spark",
    "gas",
    "burning",
    "electric shock",
    "起火",
    "冒烟",
    "火花",
    "燃气",
    "煤气",
    "漏电",
    "触电",
)
MAJOR_WORDS = (
    "leak",
    "not working",
    "no power",
    "won't start",
    "dead",
    "broken",
    "flood",
    "漏水",
    "不工作",
    "不能用",
    "无法启动",
    "坏了",
    "不制冷",
    "不加热",
    "不通电",
)
MINOR_WORDS = ("noise", "squeak", "loose", "scratch", "slow", "噪音", "异响", "松动", "划痕")

CATEGORY_SKILLS: dict[str, tuple[str, ...]] = {
    "electrical": ("electrical",),
    "electronics": ("electronics",),
    "leak": ("plumbing",),
    "drainage": ("plumbing",),
    "cooling": ("refrigeration",),
    "installation": ("installation",),
    "maintenance": ("maintenance",),
    "mechanical": ("mechanical",),
    "safety": ("electrical", "gas_safety"),
}
CATEGORY_MINUTES: dict[str, int] = {"installation": 120, "maintenance": 90, "safety": 90, "leak": 75}


@dataclass(frozen=True)
class TriageRules:
    grade_bonus: Mapping[str, int] = field(default_factory=lambda: {"VIP": 2, "A": 1, "B": 0, "C": 0})
    # minimum score for each priority (score = severity + urgency + grade bonus, severity/urgency 1..4)
    thresholds: Mapping[str, int] = field(default_factory=lambda: {"P1": 8, "P2": 6, "P3": 4})
    critical_is_p1: bool = True
    send_in_categories: frozenset[str] = frozenset()
    remote_first: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> TriageRules:
        if not cfg:
            return cls()
        base = cls()
        return cls(
            grade_bonus={**base.grade_bonus, **cfg.get("grade_bonus", {})},
            thresholds={**base.thresholds, **cfg.get("thresholds", {})},
            critical_is_p1=bool(cfg.get("critical_is_p1", True)),
            send_in_categories=frozenset(cfg.get("send_in_categories", ())),
            remote_first=bool(cfg.get("remote_first", True)),
        )


@dataclass(frozen=True)
class Triage:
    category: str
    priority: str
    path: str
    severity: int
    urgency: int
    score: int
    required_skills: tuple[str, ...]
    estimated_minutes: int
    suggested_fix: str | None
    fix_steps: tuple[str, ...] = ()


def infer_severity(symptom: str) -> int:
    t = symptom.lower()
    if any(w in t for w in CRITICAL_WORDS):
        return 4
    if any(w in t for w in MAJOR_WORDS):
        return 3
    if any(w in t for w in MINOR_WORDS):
        return 1
    return 2


def default_urgency(kind: str) -> int:
    return {"complaint": 3, "repair": 2, "return": 2, "installation": 2, "maintenance": 1, "consultation": 1}.get(
        kind, 2
    )


def priority_of(score: int, severity: int, rules: TriageRules) -> str:
    if rules.critical_is_p1 and severity >= 4:
        return "P1"
    for p in ("P1", "P2", "P3"):
        if score >= rules.thresholds[p]:
            return p
    return "P4"


def best_article(symptom: str, kb: Iterable[Article]) -> Article | None:
    scored = [(a.matches(symptom), a) for a in kb]
    scored = [(s, a) for s, a in scored if s > 0]
    if not scored:
        return None
    return max(scored, key=lambda sa: (sa[0], sa[1].remote))[1]


def triage(
    *,
    kind: str,
    symptom: str,
    grade: str | None,
    severity: int | None = None,
    urgency: int | None = None,
    rules: TriageRules | None = None,
    kb: Iterable[Article] = DEFAULT_KB,
) -> Triage:
    rules = rules or TriageRules()
    sev = severity if severity is not None else infer_severity(symptom)
    urg = urgency if urgency is not None else default_urgency(kind)
    score = sev + urg + rules.grade_bonus.get(grade or "", 0)
    priority = priority_of(score, sev, rules)
    article = best_article(symptom, kb) if kind in ("repair", "consultation", "maintenance") else None
    if sev >= 4:
        category = "safety"
    elif kind in ("installation", "maintenance", "return", "complaint", "consultation"):
        category = kind
    else:
        category = article.category if article else "general"

    if kind in ("installation", "maintenance"):
        path = "on_site"
    elif kind == "return" or category in rules.send_in_categories:
        path = "send_in"
    elif kind in ("consultation", "complaint"):
        path = "remote"
    elif sev < 4 and rules.remote_first and article is not None and article.remote:
        path = "remote"  # try the known fix by phone first
    else:
        path = "on_site"
    return Triage(
        category=category,
        priority=priority,
        path=path,
        severity=sev,
        urgency=urg,
        score=score,
        required_skills=CATEGORY_SKILLS.get(category, ("general_repair",)) if path == "on_site" else (),
        estimated_minutes=CATEGORY_MINUTES.get(category, 60),
        suggested_fix=article.id if article else None,
        fix_steps=article.steps if article else (),
    )
