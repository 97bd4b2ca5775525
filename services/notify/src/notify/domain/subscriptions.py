"""Which events notify whom, on which channels, and the built-in (default) templates.

Event types are named by their contract classes (the stable type strings live in the contracts
only). Tenants override templates (versioned, in the database); the rules here are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from fixflow_shared.events.contracts import billing as bev
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts import insight as qev
from fixflow_shared.events.contracts import intake as iev
from fixflow_shared.events.contracts import survey as sev
from notify.domain.model import Channel
from notify.domain.templates import TemplateSource

CUSTOMER, TECHNICIAN, MANAGER, PARTNER = "customer", "technician", "manager", "partner"
QUALITY = "quality"  # the tenant's quality assurance (QA) recipients


@dataclass(frozen=True)
class Rule:
    event_type: str
    audience: str
    channels: tuple[Channel, ...]
    mandatory: bool = False  # service messages that opt-out cannot silence


E, S, W, A = Channel.EMAIL, Channel.SMS, Channel.WEBHOOK, Channel.IN_APP

RULES: tuple[Rule, ...] = (
    # customer
    Rule(iev.TicketOpened.type, CUSTOMER, (E, S), mandatory=True),
    Rule(dev.AppointmentBooked.type, CUSTOMER, (E, S), mandatory=True),
    Rule(dev.AppointmentRescheduled.type, CUSTOMER, (E, S), mandatory=True),
    Rule(dev.TechnicianEnRoute.type, CUSTOMER, (S, E), mandatory=True),
    Rule(dev.TechnicianDelayed.type, CUSTOMER, (S, E), mandatory=True),
    Rule(dev.WorkOrderCompleted.type, CUSTOMER, (E,)),
    Rule(bev.QuoteIssued.type, CUSTOMER, (E,), mandatory=True),
    Rule(bev.InvoiceIssued.type, CUSTOMER, (E,), mandatory=True),
    Rule(bev.PaymentReceived.type, CUSTOMER, (E,), mandatory=True),
    Rule(bev.RefundIssued.type, CUSTOMER, (E,), mandatory=True),
    Rule(sev.SurveySent.type, CUSTOMER, (E, S)),
    # technician
    Rule(dev.TechnicianAssigned.type, TECHNICIAN, (S, A), mandatory=True),
    Rule(dev.AppointmentRescheduled.type, TECHNICIAN, (S, A), mandatory=True),
    # manager
    Rule(iev.SlaAtRisk.type, MANAGER, (E, A), mandatory=True),
    Rule(iev.SlaBreached.type, MANAGER, (E, S, A), mandatory=True),
    Rule(iev.ComplaintEscalated.type, MANAGER, (E, S, A), mandatory=True),
    # quality assurance
    Rule(qev.QualityAlertRaised.type, QUALITY, (E, A), mandatory=True),
)


def rules_for(event_type: str) -> list[Rule]:
    return [r for r in RULES if r.event_type == event_type]


def subscribed_types() -> list[str]:
    return sorted({r.event_type for r in RULES})


# --- default templates: (template name, channel, locale) -> source --------------------------------
# Email has subject + body; SMS / in-app use the body only (subject is a short title).

_T = TemplateSource
_WINDOW_ZH = "{{ window_start }} 至 {{ window_end }}"
_WINDOW_EN = "{{ window_start }} to {{ window_end }}"
# The customer's page in the portal (a signed, expiring link; empty when the portal is not set up).
_LINK = {
    "zh-CN": "{% if portal_link %}\n在线查看：{{ portal_link }}{% endif %}",
    "en": "{% if portal_link %}\nSee it online: {{ portal_link }}{% endif %}",
}
_ANSWER_LINK = {
    "zh-CN": "{% if portal_link %}\n在线确认或拒绝：{{ portal_link }}{% endif %}",
    "en": "{% if portal_link %}\nAccept or decline online: {{ portal_link }}{% endif %}",
}

DEFAULTS: dict[tuple[str, str], _T] = {
    ("ticket.opened", "zh-CN"): _T(
        "【售后服务】您的服务请求已受理 工单 {{ ticket_id }}",
        "您好，\n\n我们已收到您的服务请求（工单号 {{ ticket_id }}）。\n问题描述：{{ symptom }}\n"
        "我们会尽快与您联系，请保持电话畅通。\n\n此邮件由系统自动发送。",
    ),
    ("ticket.opened", "en"): _T(
        "[Service] We received your request (ticket {{ ticket_id }})",
        "Hello,\n\nWe have received your service request (ticket {{ ticket_id }}).\nSymptom: {{ symptom }}\n"
        "We will contact you shortly.\n\nThis message was sent automatically.",
    ),
    ("appointment.booked", "zh-CN"): _T(
        "【预约确认】工单 {{ ticket_id }} 上门时间",
        "您的上门服务已预约：" + _WINDOW_ZH + "。服务工程师：{{ technician_name }}，电话 {{ technician_phone }}。",
    ),
    ("appointment.booked", "en"): _T(
        "[Appointment] Visit booked for ticket {{ ticket_id }}",
        "Your visit is booked for " + _WINDOW_EN + ". Technician: {{ technician_name }}, phone {{ technician_phone }}.",
    ),
    ("appointment.rescheduled", "zh-CN"): _T(
        "【改约通知】工单 {{ ticket_id }}",
        "您的上门时间已改为：" + _WINDOW_ZH + "。服务工程师：{{ technician_name }}，电话 {{ technician_phone }}。",
    ),
    ("appointment.rescheduled", "en"): _T(
        "[Rescheduled] Ticket {{ ticket_id }}",
        "Your visit moved to " + _WINDOW_EN + ". Technician: {{ technician_name }}, phone {{ technician_phone }}.",
    ),
    # `eta` is "YYYY-MM-DD HH:MM" in the tenant's zone: the message says the time of day
    ("technician.en-route", "zh-CN"): _T(
        "【师傅已出发】工单 {{ ticket_id }}",
        "服务工程师 {{ technician_name }} 已出发{% if eta %}，预计 {{ eta[11:16] }} 左右到达{% endif %}。"
        "电话 {{ technician_phone }}。",
    ),
    ("technician.en-route", "en"): _T(
        "[On the way] Ticket {{ ticket_id }}",
        "Technician {{ technician_name }} is on the way{% if eta %}, expected around {{ eta[11:16] }}{% endif %}. "
        "Phone {{ technician_phone }}.",
    ),
    ("technician.delayed", "zh-CN"): _T(
        "【到达延迟】工单 {{ ticket_id }}",
        "抱歉，服务工程师 {{ technician_name }} 将延迟约 {{ delay_minutes }} 分钟，预计 {{ new_eta }} 到达。",
    ),
    ("technician.delayed", "en"): _T(
        "[Delayed] Ticket {{ ticket_id }}",
        "Sorry, technician {{ technician_name }} is about {{ delay_minutes }} minutes late; new ETA {{ new_eta }}.",
    ),
    ("work-order.completed", "zh-CN"): _T(
        "【服务完成】工单 {{ ticket_id }}",
        "您的服务已完成，感谢您的信任。如有问题请随时联系我们。"
        "{% if service_report_id %}\n服务报告（PDF，含检查单、照片和您的签字）已列在工单页面上。{% endif %}",
    ),
    ("work-order.completed", "en"): _T(
        "[Done] Ticket {{ ticket_id }}",
        "The work on your ticket {{ ticket_id }} is done. Thank you."
        "{% if service_report_id %}\nThe service report (PDF, with the checklist, photos and your signature) "
        "is on your ticket's page.{% endif %}",
    ),
    ("invoice.issued", "zh-CN"): _T(
        "【账单】发票 {{ invoice_number }} 工单 {{ ticket_id }}",
        "您的发票 {{ invoice_number }} 已开具，金额 {{ total }} {{ currency }}。",
    ),
    ("invoice.issued", "en"): _T(
        "[Invoice] {{ invoice_number }} (ticket {{ ticket_id }})",
        "Your invoice {{ invoice_number }} was issued: {{ total }} {{ currency }}.",
    ),
    ("quote.issued", "zh-CN"): _T(
        "【报价】工单 {{ ticket_id }}",
        "本次服务报价 {{ total }} {{ currency }}，有效期至 {{ valid_until }}。请确认后我们再安排上门。",
    ),
    ("quote.issued", "en"): _T(
        "[Quote] Ticket {{ ticket_id }}",
        "The quote for ticket {{ ticket_id }} is {{ total }} {{ currency }}, valid until {{ valid_until }}. "
        "We book the visit once you accept it.",
    ),
    ("payment.received", "zh-CN"): _T(
        "【收据】{{ receipt_number }} 工单 {{ ticket_id }}",
        "已收到您支付的 {{ amount }} {{ currency }}（发票 {{ invoice_number }}），待付余额 {{ balance_due }} {{ currency }}。",
    ),
    ("payment.received", "en"): _T(
        "[Receipt] {{ receipt_number }} (ticket {{ ticket_id }})",
        "We received {{ amount }} {{ currency }} for invoice {{ invoice_number }}. Still due: {{ balance_due }} {{ currency }}.",
    ),
    ("refund.issued", "zh-CN"): _T(
        "【退款】工单 {{ ticket_id }}",
        "退款 {{ amount }} {{ currency }} 已办理（货款 {{ gross }}，扣除退货运费及刷卡手续费 {{ customer_share }}）。",
    ),
    ("refund.issued", "en"): _T(
        "[Refund] Ticket {{ ticket_id }}",
        "We refunded {{ amount }} {{ currency }}: {{ gross }} less {{ customer_share }} for return freight and card fee.",
    ),
    ("survey.sent", "zh-CN"): _T("【满意度回访】工单 {{ ticket_id }}", "请花一分钟评价本次服务：{{ answer_url }}"),
    ("survey.sent", "en"): _T(
        "[Survey] Ticket {{ ticket_id }}", "Please rate our service (one minute): {{ answer_url }}"
    ),
    ("technician.assigned", "zh-CN"): _T(
        "【派工】工单 {{ ticket_id }}",
        "您已被派工：工单 {{ ticket_id }}，第 {{ visit_number }} 次上门。{{ window_start }}",
    ),
    ("technician.assigned", "en"): _T(
        "[Assigned] Ticket {{ ticket_id }}",
        "You are assigned to ticket {{ ticket_id }}, visit {{ visit_number }}. {{ window_start }}",
    ),
    ("sla.at-risk", "zh-CN"): _T(
        "【SLA 预警】工单 {{ ticket_id }}",
        "工单 {{ ticket_id }} 的 {{ clock }} 时限将于 {{ due_at }} 到期，请尽快处理。",
    ),
    ("sla.at-risk", "en"): _T(
        "[SLA at risk] Ticket {{ ticket_id }}", "Ticket {{ ticket_id }}: the {{ clock }} deadline is {{ due_at }}."
    ),
    ("sla.breached", "zh-CN"): _T(
        "【SLA 超时】工单 {{ ticket_id }}", "工单 {{ ticket_id }} 的 {{ clock }} 时限已于 {{ due_at }} 超时。"
    ),
    ("sla.breached", "en"): _T(
        "[SLA breached] Ticket {{ ticket_id }}",
        "Ticket {{ ticket_id }} breached its {{ clock }} deadline ({{ due_at }}).",
    ),
    ("complaint.escalated", "zh-CN"): _T(
        "【投诉升级】工单 {{ ticket_id }}", "投诉工单 {{ ticket_id }} 已升级，请尽快处理。"
    ),
    ("complaint.escalated", "en"): _T(
        "[Complaint escalated] Ticket {{ ticket_id }}", "Complaint ticket {{ ticket_id }} was escalated."
    ),
    ("quality-alert.raised", "zh-CN"): _T(
        "【质量预警】{{ key }}：{{ count }} 起故障",
        "质量信息反馈单 {{ alert_id }}：{{ window_start }} 至 {{ window_end }}，{{ dimension }} = {{ key }} "
        "共 {{ count }} 起故障（阈值 {{ threshold }}，{{ window_days }} 天）。\n涉及工单：{{ ticket_ids | join(', ') }}\n"
        "请在系统中填写原因分析、整改措施、责任人及完成日期。",
    ),
    ("quality-alert.raised", "en"): _T(
        "[Quality alert] {{ key }}: {{ count }} faults",
        "Quality alert {{ alert_id }}: {{ count }} faults of {{ dimension }} = {{ key }} between {{ window_start }} "
        "and {{ window_end }} (threshold {{ threshold }} in {{ window_days }} days).\nTickets: {{ ticket_ids | join(', ') }}\n"
        "Please record the root cause, the rectification plan, its owner and due date.",
    ),
}

# Every message to a customer links to its page in the portal.
_CUSTOMER_MESSAGES = (
    "ticket.opened",
    "appointment.booked",
    "appointment.rescheduled",
    "technician.en-route",
    "technician.delayed",
    "work-order.completed",
    "invoice.issued",
    "payment.received",
    "refund.issued",
)
for (_name, _loc), _t in list(DEFAULTS.items()):
    if _name in _CUSTOMER_MESSAGES:
        DEFAULTS[(_name, _loc)] = _T(_t.subject, _t.body + _LINK[_loc])
    elif _name == "quote.issued":
        DEFAULTS[(_name, _loc)] = _T(_t.subject, _t.body + _ANSWER_LINK[_loc])

# Technician-facing variant of appointment.rescheduled (same event, different audience).
AUDIENCE_TEMPLATES: dict[tuple[str, str, str], _T] = {
    ("appointment.rescheduled", TECHNICIAN, "zh-CN"): _T(
        "【改约】工单 {{ ticket_id }}", "工单 {{ ticket_id }} 改约至 " + _WINDOW_ZH + "。"
    ),
    ("appointment.rescheduled", TECHNICIAN, "en"): _T(
        "[Rescheduled] Ticket {{ ticket_id }}", "Ticket {{ ticket_id }} moved to " + _WINDOW_EN + "."
    ),
}


def default_template(name: str, audience: str, locale: str) -> TemplateSource | None:
    loc = locale if locale in ("zh-CN", "en") else ("zh-CN" if locale.lower().startswith("zh") else "en")
    return AUDIENCE_TEMPLATES.get((name, audience, loc)) or DEFAULTS.get((name, loc))
