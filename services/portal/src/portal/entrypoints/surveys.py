"""The survey page behind the link in a survey e-mail or SMS: stars per question, the 0-10
recommendation, a comment. No sign-in: the link's signed single-use token is the credential, and
survey checks it. A used, expired or broken link gets a friendly page, never JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fixflow_shared.web.services import ServiceProblem
from portal.entrypoints.web import locale_of, render, services_of
from portal.i18n import translator

router = APIRouter(prefix="/s", include_in_schema=False)

QUESTION_WORDS = {
    "overall": "Overall, how satisfied are you?",
    "timeliness": "Did we come on time?",
    "professionalism": "How skilled was the technician?",
    "attitude": "How friendly was the technician?",
    "effectiveness": "Is the problem fixed?",
}


def _closed(request: Request, exc: ServiceProblem) -> Response:
    _ = translator(locale_of(request))
    if exc.status == 409:
        heading, message, status = _("You have already answered"), _("Thank you, we have your answers."), 409
    elif exc.status == 410:
        heading, message, status = (
            _("This survey has closed"),
            _("The time to answer has passed. Thank you all the same."),
            410,
        )
    else:
        heading, message, status = _("This link does not work"), _("Please use the link from our latest message."), 404
    return render(request, "customer/survey_closed.html", {"heading": heading, "message": message}, status=status)


@router.get("/{token}")
async def survey_page(request: Request, token: str) -> Response:
    try:
        survey = await services_of(request).survey.get(f"/v1/public/surveys/{token}", token=None)
    except ServiceProblem as exc:
        if exc.status >= 500:
            raise
        return _closed(request, exc)
    return render(
        request, "customer/survey.html", {"survey": survey, "token": token, "words": QUESTION_WORDS, "values": {}}
    )


@router.post("/{token}")
async def answer(request: Request, token: str) -> Response:
    services = services_of(request)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        survey = await services.survey.get(f"/v1/public/surveys/{token}", token=None)
    except ServiceProblem as exc:
        if exc.status >= 500:
            raise
        return _closed(request, exc)
    body: dict[str, Any] = {
        "scores": {q: int(values[f"score_{q}"]) for q in survey["questions"] if values.get(f"score_{q}", "").isdigit()}
    }
    if survey.get("ask_nps") and values.get("nps", "").isdigit():
        body["nps"] = int(values["nps"])
    if survey.get("allow_comment") and values.get("comment", "").strip():
        body["comment"] = values["comment"].strip()
    try:
        await services.survey.post(f"/v1/public/surveys/{token}/answers", body, token=None, idempotency_key=None)
    except ServiceProblem as exc:
        if exc.status == 422:
            return render(
                request,
                "customer/survey.html",
                {"survey": survey, "token": token, "words": QUESTION_WORDS, "values": values, "problem": exc},
                status=422,
            )
        if exc.status >= 500:
            raise
        return _closed(request, exc)
    return render(request, "customer/survey_thanks.html", {"nps": body.get("nps")})
