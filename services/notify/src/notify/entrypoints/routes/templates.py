"""HTTP: /v1/templates — versioned, sandboxed message templates per tenant, event, channel, locale.

A save is checked first (syntax, variables the event provides, no reaching for internals, renders
on sample data) and refused with 422 problem+json; each accepted save is a new version, the
newest one is used. Preview renders without saving.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses
from notify import views
from notify.domain import context as ctx
from notify.domain.model import Channel
from notify.domain.templates import TemplateSource
from notify.entrypoints.routes.common import RuntimeDep
from notify.service_layer import handlers

router = APIRouter(prefix="/templates", tags=["templates"])
Editor = Annotated[Access, Depends(Authorize("templates.write"))]
Reader = Annotated[Access, Depends(Authorize("templates.read"))]
ChannelName = Literal["email", "sms", "in_app"]
Locale = Literal["zh-CN", "en"]
NAME = r"^[a-z][a-z-]*(\.[a-z][a-z-]*)+$"


class TemplateWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20000)


class TemplatePreview(TemplateWrite):
    name: str = Field(pattern=NAME, max_length=100)
    data: dict[str, Any] | None = Field(None, description="event fields to render with (sample values otherwise)")


class TemplateVersion(BaseModel):
    name: str
    channel: str
    locale: str
    version: int
    subject: str
    body: str
    created_by: str
    created_at: datetime


class Rendered(BaseModel):
    subject: str
    body: str


@router.get("")
async def list_templates(principal: Reader) -> list[dict[str, Any]]:
    """Template names (one per subscribed event) and the variables each may use."""
    out = []
    for name in handlers.available_templates():
        model = handlers.template_model(name)
        assert model is not None
        out.append({"name": name, "event_type": model.type, "variables": sorted(ctx.allowed_variables(model))})
    return out


@router.put("/{name}/{channel}/{locale}", status_code=status.HTTP_201_CREATED, response_model=TemplateVersion)
async def save_template(
    name: str, channel: ChannelName, locale: Locale, body: TemplateWrite, principal: Editor, rt: RuntimeDep
) -> TemplateVersion:
    source = TemplateSource(body.subject, body.body)
    version = await handlers.save_template(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        name=name,
        channel=Channel(channel),
        locale=locale,
        source=source,
        created_by=principal.subject,
    )
    versions = await _versions(rt, principal.tenant, name, channel, locale)
    return next(v for v in versions if v.version == version)


@router.get("/{name}/{channel}/{locale}", response_model=list[TemplateVersion], responses=problem_responses(404))
async def template_versions(
    name: str, channel: ChannelName, locale: Locale, principal: Reader, rt: RuntimeDep
) -> list[TemplateVersion]:
    versions = await _versions(rt, principal.tenant, name, channel, locale)
    if not versions:
        raise NotFound("template", f"{name}/{channel}/{locale}")
    return versions


@router.post("/preview", response_model=Rendered)
async def preview(body: TemplatePreview, principal: Reader) -> Rendered:
    r = handlers.preview_template(body.name, TemplateSource(body.subject, body.body), body.data, principal.tenant)
    return Rendered(subject=r.subject, body=r.body)


async def _versions(rt: Any, tenant: str, name: str, channel: str, locale: str) -> list[TemplateVersion]:
    stored = await views.template_versions(uow=rt.uow(), tenant_id=tenant, name=name, channel=channel, locale=locale)
    return [
        TemplateVersion(
            name=s.name,
            channel=s.channel,
            locale=s.locale,
            version=s.version,
            subject=s.source.subject,
            body=s.source.body,
            created_by=s.created_by,
            created_at=s.created_at,
        )
        for s in stored
    ]
