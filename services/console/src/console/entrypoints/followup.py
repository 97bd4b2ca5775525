"""Follow-up desk (回访): the satisfaction surveys and periodic revisits due, the call script, the
customer's answers recorded on their behalf. A low score becomes a complaint at once (the survey
service decides, as for answers given on the web link); praise is noted for the technician."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from console.entrypoints.web import AgentDep, locale_of, problem_context, render, services_of, settings_of
from console.i18n import translator
from fixflow_shared.web.services import ServiceProblem

router = APIRouter(include_in_schema=False)
QUESTIONS = ("timeliness", "professionalism", "attitude", "effectiveness", "overall")


def end_of_today(tz: str) -> datetime:
    zone = ZoneInfo(tz)
    today = datetime.now(zone).date()
    return datetime.combine(today + timedelta(days=1), time(0), zone).astimezone(UTC)


@router.get("/follow-up", response_class=HTMLResponse)
async def work_list(request: Request, session: AgentDep) -> HTMLResponse:
    return render(request, "followup/list.html", await _work(request, session.token))


@router.get("/follow-up/list", response_class=HTMLResponse)
async def work_list_fragment(request: Request, session: AgentDep) -> HTMLResponse:
    return render(request, "followup/rows.html", await _work(request, session.token))


async def _work(request: Request, token: str) -> dict[str, Any]:
    s = services_of(request)
    until = end_of_today(settings_of(request).timezone)
    surveys, revisits = await asyncio.gather(
        s.survey.get("/v1/surveys", token=token, params={"due_before": until.isoformat(), "limit": 100}),
        s.survey.get("/v1/revisits", token=token, params={"status": "open", "limit": 100}),
    )
    today = datetime.now(ZoneInfo(settings_of(request).timezone)).date()
    revisits = [r for r in revisits if r["due_on"] <= today.isoformat()]
    customer_ids = {r["customer_id"] for r in revisits} | {x["customer_id"] for x in surveys if x.get("customer_id")}
    found = await asyncio.gather(
        *(s.intake.get_or_none(f"/v1/customers/{c}", token=token) for c in sorted(customer_ids))
    )
    customers = {c["id"]: c for c in found if c}
    # phone-channel surveys are the agents' own calls; the others are overdue answers worth a call
    surveys.sort(key=lambda x: (x["channel"] != "phone", x["due_at"]))
    return {"surveys": surveys, "revisits": revisits, "customers": customers, "today": today}


@router.get("/follow-up/surveys/{survey_id}", response_class=HTMLResponse)
async def call_script(request: Request, survey_id: str, session: AgentDep) -> HTMLResponse:
    s = services_of(request)
    survey, plan = await asyncio.gather(
        s.survey.get(f"/v1/surveys/{survey_id}", token=session.token),
        s.survey.get("/v1/survey-plan", token=session.token),
    )
    ticket, customer = await asyncio.gather(
        s.intake.get_or_none(f"/v1/tickets/{survey['ticket_id']}", token=session.token),
        s.intake.get_or_none(f"/v1/customers/{survey['customer_id']}", token=session.token)
        if survey.get("customer_id")
        else asyncio.sleep(0, None),
    )
    return render(
        request,
        "followup/script.html",
        {
            "survey": survey,
            "plan": plan,
            "ticket": ticket,
            "customer": customer,
            "values": {},
            "errors": {},
            "idem": str(uuid.uuid4()),
        },
    )


@router.post("/follow-up/surveys/{survey_id}/answers", response_class=HTMLResponse)
async def record_answers(request: Request, survey_id: str, session: AgentDep) -> HTMLResponse:
    _ = translator(locale_of(request))
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    scores = {q: int(values[q]) for q in QUESTIONS if values.get(q, "").isdigit()}
    body: dict[str, Any] = {"scores": scores}
    if values.get("nps", "").isdigit():
        body["nps"] = int(values["nps"])
    if values.get("comment", "").strip():
        body["comment"] = values["comment"].strip()
    s = services_of(request)
    try:
        await s.survey.post(f"/v1/surveys/{survey_id}/answers", body, token=session.token)
    except ServiceProblem as exc:
        if exc.status in (401, 403, 404) or exc.status >= 500:
            raise
        survey, plan = await asyncio.gather(
            s.survey.get(f"/v1/surveys/{survey_id}", token=session.token),
            s.survey.get("/v1/survey-plan", token=session.token),
        )
        return render(
            request,
            "followup/answer_form.html",
            {**problem_context(exc, values), "survey": survey, "plan": plan},
            status=422,
        )
    survey = await s.survey.get(f"/v1/surveys/{survey_id}", token=session.token)
    response = render(request, "followup/answered.html", {"survey": survey})
    response.headers["HX-Trigger"] = "followup-changed"
    return response


@router.post("/follow-up/revisits/{revisit_id}", response_class=HTMLResponse)
async def revisit_outcome(
    request: Request,
    revisit_id: str,
    session: AgentDep,
    outcome: Annotated[str, Form(max_length=20)] = "",
    satisfied: Annotated[str, Form(max_length=5)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    body: dict[str, Any] = {"outcome": outcome, "notes": notes or None}
    if satisfied in ("yes", "no"):
        body["satisfied"] = satisfied == "yes"
    try:
        await services_of(request).survey.post(f"/v1/revisits/{revisit_id}/outcome", body, token=session.token)
    except ServiceProblem as exc:
        if exc.status in (401, 403, 404) or exc.status >= 500:
            raise
        return render(
            request,
            "followup/revisit_form.html",
            {
                **problem_context(exc, {"outcome": outcome, "satisfied": satisfied, "notes": notes}),
                "r": {"id": revisit_id},
            },
            status=422,
        )
    response = render(request, "partials/done.html", {"message": _("Revisit recorded.")})
    response.headers["HX-Trigger"] = "followup-changed"
    return response
