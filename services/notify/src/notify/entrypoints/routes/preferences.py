"""HTTP: /v1/preferences, /v1/recipients, /v1/webhooks, /v1/feed — who gets what, and how."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from fixflow_shared.access import Access, Authorize
from fixflow_shared.contacts import Email, PhoneText, mask_contact, normalise_email
from fixflow_shared.errors import Forbidden, NotFound
from fixflow_shared.fields import LocalTime
from fixflow_shared.policy import POLICY
from fixflow_shared.problems import problem_responses
from fixflow_shared.runtime import ServiceRuntime
from notify import views
from notify.domain import subscriptions, webhook_targets
from notify.domain.exceptions import InvalidAddress
from notify.domain.model import Channel, Preference, QuietHours
from notify.entrypoints.routes.common import RuntimeDep, feed_owner
from notify.service_layer import recipients

router = APIRouter(tags=["preferences"])
PreferencesWrite = Annotated[Access, Depends(Authorize("preferences.write"))]
PreferencesRead = Annotated[Access, Depends(Authorize("preferences.read"))]
RecipientsWrite = Annotated[Access, Depends(Authorize("recipients.write"))]
WebhooksCreate = Annotated[Access, Depends(Authorize("webhooks.create"))]
FeedRead = Annotated[Access, Depends(Authorize("feed.read", owner=feed_owner, what="feed"))]
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def recipient_key(rt: ServiceRuntime, tenant: str, value: str) -> str:
    """A preference belongs to a recipient id, an e-mail address or a phone number; addresses are
    keyed by the one contact rule (E.164 in the tenant's region), as other services send them
    (an invalid address is a 422, InvalidContact)."""
    if "@" in value:
        return normalise_email(value)
    if re.fullmatch(r"\+?[0-9 ()-]+", value):
        return rt.phones.normalise(value, tenant)
    if not _ID.match(value):
        raise InvalidAddress("use a recipient id, an email address or a phone number")
    return value


class QuietHoursWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: LocalTime = Field(description="local time, e.g. 22:00")
    end: LocalTime = Field(description="local time, e.g. 08:00 (before start = over midnight)")
    tz: str = Field("Asia/Shanghai", max_length=64)

    @field_validator("tz")
    @classmethod
    def known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class PreferenceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["email", "sms", "in_app"]] | None = Field(None, description="None = the defaults")
    opted_out: bool = False
    quiet_hours: QuietHoursWrite | None = None


class PreferenceRead(PreferenceWrite):
    recipient: str


@router.put("/preferences/{recipient}", response_model=PreferenceRead)
async def put_preference(
    recipient: str, body: PreferenceWrite, principal: PreferencesWrite, rt: RuntimeDep
) -> PreferenceRead:
    key = recipient_key(rt, principal.tenant, recipient)
    qh = body.quiet_hours
    pref = Preference(
        channels=frozenset(Channel(c) for c in body.channels) if body.channels is not None else None,
        opted_out=body.opted_out,
        quiet_hours=QuietHours(start=qh.start.replace(tzinfo=None), end=qh.end.replace(tzinfo=None), tz=qh.tz)
        if qh
        else None,
    )
    await recipients.put_preference(uow=rt.uow(), tenant_id=principal.tenant, recipient=key, pref=pref)
    return PreferenceRead(recipient=mask_contact(key) or key, **body.model_dump())


@router.get("/preferences/{recipient}", response_model=PreferenceRead, responses=problem_responses(404))
async def get_preference(recipient: str, principal: PreferencesRead, rt: RuntimeDep) -> PreferenceRead:
    key = recipient_key(rt, principal.tenant, recipient)
    p = await views.preference(uow=rt.uow(), tenant_id=principal.tenant, recipient=key)
    if p is None:
        raise NotFound("preference", mask_contact(key) or key)
    qh = p.quiet_hours
    return PreferenceRead(
        recipient=mask_contact(key) or key,
        channels=sorted(c.value for c in p.channels) if p.channels is not None else None,  # type: ignore[misc]
        opted_out=p.opted_out,
        quiet_hours=QuietHoursWrite(start=qh.start, end=qh.end, tz=qh.tz) if qh else None,
    )


class RecipientWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["manager", "technician", "quality"]
    name: str = Field(min_length=1, max_length=200)
    email: Email | None = None
    phone: PhoneText | None = None
    locale: Literal["zh-CN", "en"] = "zh-CN"


@router.put("/recipients/{recipient_id}", status_code=status.HTTP_200_OK)
async def put_recipient(
    recipient_id: str, body: RecipientWrite, principal: RecipientsWrite, rt: RuntimeDep
) -> dict[str, Any]:
    if not _ID.match(recipient_id):
        raise InvalidAddress("ids use letters, digits and _.:- (at most 64)")
    phone = rt.phones.e164(body.phone, principal.tenant, at=("body", "phone"))
    email = body.email  # normalised by the Email type
    await recipients.put_recipient(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        recipient_id=recipient_id,
        role=body.role,
        name=body.name,
        email=email,
        phone=phone,
        locale=body.locale,
    )
    return {
        "id": recipient_id,
        "role": body.role,
        "name": body.name,
        "email": mask_contact(email),
        "phone": mask_contact(phone),
        "locale": body.locale,
    }


class WebhookWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    event_types: list[str] = Field(default_factory=list, max_length=50, description="[] = every event notify consumes")
    secret: str | None = Field(None, min_length=16, max_length=200, description="generated when omitted")
    include_contact: bool = Field(
        False,
        description="also send the customer's contact details (e-mail, phone, name); honoured only while the "
        "role of the subscription's owner may read them",
    )

    @field_validator("event_types")
    @classmethod
    def known_types(cls, v: list[str]) -> list[str]:
        unknown = set(v) - set(subscriptions.subscribed_types())
        if unknown:
            raise ValueError(f"not an event notify consumes: {', '.join(sorted(unknown))}")
        return v


class WebhookCreated(BaseModel):
    id: str
    url: str
    event_types: list[str]
    include_contact: bool
    secret: str = Field(description="shown once: HMAC-SHA256 key of the Fixflow-Signature header")
    signature: str = "Fixflow-Signature: v1=hex(HMAC-SHA256(secret, Fixflow-Timestamp + '.' + body))"


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def add_webhook(body: WebhookWrite, principal: WebhooksCreate, rt: RuntimeDep) -> WebhookCreated:
    """Targets must be https in production and never internal addresses (unless the operator allows
    the network); 422 otherwise."""
    settings = rt.settings
    webhook_targets.check_url(
        str(body.url),
        production=settings.environment == "production",
        allowed=webhook_targets.networks(getattr(settings, "webhook_allowed_networks", ())),
    )
    if body.include_contact and POLICY["contacts.read"].reach(principal.roles) is None:
        raise Forbidden("your role may not receive customers' contact details")
    endpoint_id = str(uuid.uuid4())
    secret = body.secret or secrets.token_urlsafe(32)
    await recipients.add_webhook(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        endpoint_id=endpoint_id,
        url=str(body.url),
        secret=secret,
        event_types=body.event_types,
        include_contact=body.include_contact,
        owner_subject=principal.subject,
        owner_roles=sorted(principal.roles),
    )
    return WebhookCreated(
        id=endpoint_id,
        url=str(body.url),
        event_types=body.event_types,
        include_contact=body.include_contact,
        secret=secret,
    )


class FeedItem(BaseModel):
    id: int
    ticket_id: str | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


@router.get("/feed/{recipient_id}", response_model=list[FeedItem], tags=["feed"], responses=problem_responses(404))
async def read_feed(
    recipient_id: str, principal: FeedRead, rt: RuntimeDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """The in-app feed of one recipient (staff read anyone's; a technician or customer only its own)."""
    return await views.feed(uow=rt.uow(), tenant_id=principal.tenant, recipient=recipient_id, limit=limit)
