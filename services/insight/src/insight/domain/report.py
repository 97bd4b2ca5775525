"""The monthly management report (pure): its sections from the month's figures, as CSV rows and
as labelled lines for the PDF. Labels are bilingual (zh-CN / en) so one file serves both."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

Section = tuple[str, list[tuple[str, str]]]


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def previous_month(today: date) -> date:
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _hours(s: float | None) -> str:
    return "-" if s is None else f"{s / 3600:.1f} h"


def _money(m: dict[str, dict[str, int]]) -> str:
    return ", ".join(f"{v['minor'] / 100:,.2f} {cur} ({v['count']})" for cur, v in m.items()) or "0"


def assemble(
    *,
    tenant: str,
    month: date,
    overall: dict[str, Any],
    by_channel: dict[str, dict[str, Any]],
    by_kind: dict[str, dict[str, Any]],
    by_team: dict[str, dict[str, Any]],
    top_causes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "tenant_id": tenant,
        "month": month.isoformat()[:7],
        "overall": overall,
        "volumes": {
            "by_channel": {k: v["tickets"]["opened"] for k, v in sorted(by_channel.items())},
            "by_kind": {k: v["tickets"]["opened"] for k, v in sorted(by_kind.items())},
        },
        "teams": {
            k: {
                "jobs": v["tickets"]["jobs"],
                "first_time_fix_rate": v["first_time_fix"]["rate"],
                "csat_rate": v["csat"]["rate"],
                "complaints_per_100_jobs": v["complaints"]["per_100_jobs"],
            }
            for k, v in sorted(by_team.items())
        },
        "top_fault_causes": top_causes,
        "quality_alerts": [
            {"id": a["id"], "key": a["key"], "count": a["count"], "status": a["status"]} for a in alerts
        ],
    }


def sections(r: dict[str, Any]) -> list[Section]:
    o = r["overall"]
    out: list[Section] = [
        (
            "业务量 Volumes",
            [
                ("工单总数 Tickets opened", str(o["tickets"]["opened"])),
                ("已解决 Resolved", str(o["tickets"]["resolved"])),
            ]
            + [(f"渠道 Channel: {k}", str(v)) for k, v in r["volumes"]["by_channel"].items()]
            + [(f"类型 Kind: {k}", str(v)) for k, v in r["volumes"]["by_kind"].items()],
        ),
        (
            "SLA 达成 SLA attainment",
            [("总体 Overall", _pct(o["sla"]["on_time_rate"]))]
            + [
                (f"{clock}", f"{_pct(c['on_time_rate'])} ({c['met']}/{c['measured']}, breached {c['breached']})")
                for clock, c in o["sla"]["clocks"].items()
            ],
        ),
        (
            "关键指标 KPIs",
            [
                (
                    "首次响应 First response (mean / p90)",
                    f"{_hours(o['first_response']['mean_s'])} / {_hours(o['first_response']['p90_s'])}",
                ),
                ("准时到达 On-time arrival", _pct(o["arrival_on_time"]["rate"])),
                ("一次修复率 First-time fix", _pct(o["first_time_fix"]["rate"])),
                (
                    "解决时长 Resolution p50 / p90 / p95",
                    " / ".join(_hours(o["resolution_time"][p]) for p in ("p50_s", "p90_s", "p95_s")),
                ),
                ("30 天返修 Repeat repairs 30 d", _pct(o["repeat_repairs"]["rate_30d"])),
                ("90 天返修 Repeat repairs 90 d", _pct(o["repeat_repairs"]["rate_90d"])),
                ("回访完成率 Revisit completion", _pct(o["revisits"]["completion_rate"])),
                ("备件等待 Parts waiting (mean)", _hours(o["parts_waiting"]["mean_s"])),
            ],
        ),
        (
            "故障原因 Top fault causes",
            [(c["key"], f"{c['faults']} ({c['tickets']} tickets)") for c in r["top_fault_causes"]] or [("-", "0")],
        ),
        (
            "投诉与补偿 Complaints and compensation",
            [
                ("投诉 Complaints", str(o["complaints"]["count"])),
                ("每百单投诉 Per 100 jobs", str(o["complaints"]["per_100_jobs"] or "-")),
                ("补偿申请 Compensation requested", _money(o["money"]["compensation_requested"])),
            ],
        ),
        (
            "收入与减免 Revenue and waivers",
            [
                ("开票 Invoiced", _money(o["money"]["invoiced"])),
                ("收款 Paid", _money(o["money"]["paid"])),
                ("退款 Refunded", _money(o["money"]["refunded"])),
                ("减免 Waived", _money(o["money"]["waived"])),
            ],
        ),
        (
            "满意度 Survey results",
            [
                ("回复 Responses", str(o["csat"]["responses"])),
                ("满意率 CSAT", _pct(o["csat"]["rate"])),
                ("平均分 Mean score", str(o["csat"]["mean_score"] or "-")),
                ("NPS", str(o["nps"]["score"] if o["nps"]["score"] is not None else "-")),
            ],
        ),
    ]
    if r["teams"]:
        out.append(
            (
                "班组 Teams",
                [
                    (
                        team,
                        f"jobs {t['jobs']}, FTF {_pct(t['first_time_fix_rate'])}, CSAT {_pct(t['csat_rate'])}, "
                        f"complaints/100 {t['complaints_per_100_jobs'] if t['complaints_per_100_jobs'] is not None else '-'}",
                    )
                    for team, t in r["teams"].items()
                ],
            )
        )
    if r["quality_alerts"]:
        out.append(
            (
                "质量预警 Quality alerts",
                [(a["id"], f"{a['key']}: {a['count']} ({a['status']})") for a in r["quality_alerts"]],
            )
        )
    return out


def csv_text(r: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tenant", "month", "section", "item", "value"])
    for title, rows in sections(r):
        for label, value in rows:
            w.writerow([r["tenant_id"], r["month"], title, label, value])
    return buf.getvalue()
