"""Satisfaction figures (pure): grouped by technician, team or period.

Definitions (also in docs/adr/survey-reports.md):
- response_rate      = answered / sent (a survey counts as sent once it went out, answered or not)
- satisfaction_rate  = answered surveys NOT flagged by the tenant's dissatisfaction rule / answered
                       (满意率, the figure tenants target at >= 90%)
- csat               = answers with overall score 4 or 5 / answers (top-two-box, in %)
- nps                = % promoters (9-10) - % detractors (0-6) among answers that gave an NPS
- avg_scores         = mean 1..5 per question over the answers that scored it
Rates are None when their denominator is 0.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from survey.domain.model import QUESTIONS

GROUPINGS = ("technician", "team", "month", "week", "day", "all")


@dataclass(frozen=True)
class SurveyFact:
    """One sent survey and, if answered, its answers."""

    survey_id: str
    sent_at: datetime
    technician_id: str | None = None
    team_id: str | None = None
    answered: bool = False
    scores: dict[str, int] = field(default_factory=dict)
    nps: int | None = None
    dissatisfied: bool = False
    praise: bool = False


@dataclass
class GroupFigures:
    group: str
    sent: int = 0
    answered: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    praise: int = 0
    top_two: int = 0
    with_overall: int = 0
    promoters: int = 0
    detractors: int = 0
    nps_answers: int = 0
    score_sums: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    score_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, f: SurveyFact) -> None:
        self.sent += 1
        if not f.answered:
            return
        self.answered += 1
        self.dissatisfied += f.dissatisfied
        self.satisfied += not f.dissatisfied
        self.praise += f.praise
        for q, s in f.scores.items():
            self.score_sums[q] += s
            self.score_counts[q] += 1
        if "overall" in f.scores:
            self.with_overall += 1
            self.top_two += f.scores["overall"] >= 4
        if f.nps is not None:
            self.nps_answers += 1
            self.promoters += f.nps >= 9
            self.detractors += f.nps <= 6

    @staticmethod
    def _pct(n: int, d: int) -> float | None:
        return None if d == 0 else round(100.0 * n / d, 2)

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "sent": self.sent,
            "answered": self.answered,
            "response_rate": self._pct(self.answered, self.sent),
            "satisfaction_rate": self._pct(self.satisfied, self.answered),
            "csat": self._pct(self.top_two, self.with_overall),
            "nps": None
            if self.nps_answers == 0
            else round(100.0 * (self.promoters - self.detractors) / self.nps_answers, 2),
            "dissatisfied": self.dissatisfied,
            "praise": self.praise,
            "avg_scores": {
                q: round(self.score_sums[q] / self.score_counts[q], 3) for q in QUESTIONS if self.score_counts.get(q)
            },
        }


def _key(grouping: str, tz: ZoneInfo) -> Callable[[SurveyFact], str]:
    if grouping == "technician":
        return lambda f: f.technician_id or "(none)"
    if grouping == "team":
        return lambda f: f.team_id or "(none)"
    if grouping == "month":
        return lambda f: f.sent_at.astimezone(tz).strftime("%Y-%m")
    if grouping == "week":
        return lambda f: "{}-W{:02d}".format(*f.sent_at.astimezone(tz).isocalendar()[:2])
    if grouping == "day":
        return lambda f: f.sent_at.astimezone(tz).date().isoformat()
    if grouping == "all":
        return lambda f: "all"
    raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}")


def figures(
    facts: Iterable[SurveyFact], *, group_by: str = "all", tz: str = "Asia/Shanghai"
) -> list[dict[str, object]]:
    key = _key(group_by, ZoneInfo(tz))
    groups: dict[str, GroupFigures] = {}
    for f in facts:
        k = key(f)
        groups.setdefault(k, GroupFigures(group=k)).add(f)
    return [groups[k].as_dict() for k in sorted(groups)]


CSV_COLUMNS = (
    "group",
    "sent",
    "answered",
    "response_rate",
    "satisfaction_rate",
    "csat",
    "nps",
    "dissatisfied",
    "praise",
    *(f"avg_{q}" for q in QUESTIONS),
)


def _csv_cell(v: object) -> object:
    # Neutralise spreadsheet formulas in free-form values (technician / team ids come from events).
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def to_csv(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        avg = r["avg_scores"]
        assert isinstance(avg, dict)
        w.writerow([_csv_cell(r[c]) for c in CSV_COLUMNS[:9]] + [_csv_cell(avg.get(q)) for q in QUESTIONS])
    return buf.getvalue()
