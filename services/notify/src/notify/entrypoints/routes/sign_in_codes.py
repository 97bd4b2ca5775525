"""HTTP: /v1/sign-in-codes: the portal's one-time sign-in codes, sent by SMS or e-mail at once.

A code is a credential: it is sent straight through the channel's providers (with their retries and
failover) and never stored, logged or kept as a delivery. The portal decides who gets one (it
looked the customer up), limits how often, and checks the code; notify only carries it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.contacts import InvalidContact, normalise_email
from fixflow_shared.errors import Unavailable, Unprocessable
from fixflow_shared.logs import get_logger
from fixflow_shared.problems import problem_responses
from fixflow_shared.runtime import ServiceRuntime
from notify.adapters.channels import Outgoing
from notify.domain.model import Channel
from notify.service_layer.dispatcher import Dispatcher, SendFailed, send_with_failover

router = APIRouter(prefix="/sign-in-codes", tags=["sign-in codes"])
log = get_logger(__name__)
# The portal's own short-lived token (role `portal`) or an agent.
Sender = Annotated[Access, Depends(Authorize("sign_in_codes.send"))]

WORDS = {
    "en": (
        "Your Fixflow sign-in code",
        "Your sign-in code is {code}. It is valid for {minutes} minutes. Do not share it.",
    ),
    "zh-CN": ("您的 Fixflow 登录验证码", "您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"),
}


class SignInCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["sms", "email"]
    to: str = Field(min_length=3, max_length=254)
    code: str = Field(pattern=r"^[0-9]{6,8}$")
    locale: Literal["en", "zh-CN"] = "zh-CN"
    valid_minutes: int = Field(10, ge=1, le=60)
    customer_id: str | None = Field(None, max_length=64)


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(422, 503))
async def send_sign_in_code(body: SignInCode, access: Sender, request: Request) -> dict[str, str]:
    """Send one code now (202 once a provider took it; 503 when none would)."""
    dispatcher: Dispatcher = request.app.state.dispatcher
    channel = Channel.SMS if body.channel == "sms" else Channel.EMAIL
    providers = dispatcher.providers.get(channel, [])
    if not providers:
        raise Unprocessable(f"no {body.channel} provider is configured")
    # The address is checked by the one contact rule before any provider sees it: garbage is the
    # caller's 422, not a provider's refusal reported as 503.
    where = ("body", "to")
    if body.channel == "email":
        try:
            recipient = normalise_email(body.to)
        except InvalidContact as exc:
            raise exc.at(where) from exc
    else:
        runtime: ServiceRuntime = request.app.state.runtime
        recipient = runtime.phones.e164(body.to, access.principal.tenant, at=where) or body.to
    subject, text = WORDS[body.locale]
    msg = Outgoing(
        delivery_id=f"code-{uuid.uuid4()}",
        tenant_id=access.principal.tenant,
        ticket_id=None,
        recipient=recipient,
        subject=subject,
        body=text.format(code=body.code, minutes=body.valid_minutes),
        event_type="fixflow.portal.sign-in-code",
    )
    max_attempts, backoff_initial_s, backoff_max_s = dispatcher.retry
    try:
        provider, _ = await send_with_failover(
            providers, msg, max_attempts=max_attempts, backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s
        )
    except SendFailed as exc:
        log.warning(
            "sign-in code not sent", tenant=access.principal.tenant, channel=body.channel, reason=exc.reason[:200]
        )
        raise Unavailable("the code could not be sent; try again shortly", retry_after_s=30) from exc
    log.info("sign-in code sent", tenant=access.principal.tenant, channel=body.channel, provider=provider)
    return {"status": "sent", "id": msg.delivery_id}
