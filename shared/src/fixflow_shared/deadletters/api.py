"""HTTP: every service's dead letters under /v1/admin/dead-letters (role admin, the caller's tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.deadletters.box import DeadLetter, DeadLetterBox
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/admin/dead-letters", tags=["admin"])
# Admin-only actions in the policy table (fixflow_shared.policy); every replay and discard is also
# kept in the service's dead_letter_actions.
DeadLettersRead = Annotated[Access, Depends(Authorize("dead_letters.read"))]
DeadLettersReplay = Annotated[Access, Depends(Authorize("dead_letters.replay"))]
DeadLettersDiscard = Annotated[Access, Depends(Authorize("dead_letters.discard"))]


class Action(BaseModel):
    action: str
    actor: str
    note: str
    at: datetime


class DeadLetterRead(BaseModel):
    id: str = Field(description="<dlq topic>:<partition>:<offset>: use it to show, replay or discard")
    dlq_topic: str
    source_topic: str = Field(description="where a replay publishes it again")
    consumer_group: str = Field(description="the consumer group that gave up on it (x-dlq-consumer-group)")
    reason: str = Field(description="why (x-dlq-reason)")
    error: str = Field(description="the exception's type (x-dlq-error)")
    event_id: str | None
    event_type: str | None
    subject: str | None = Field(description="the ticket (CloudEvents subject)")
    tenant_id: str | None
    dead_lettered_at: datetime
    key: str | None
    status: Literal["pending", "replayed", "discarded"]
    actions: list[Action] = Field(description="the audit: who replayed or discarded it, when, why")


class DeadLetterDetail(DeadLetterRead):
    headers: dict[str, str] = Field(description="every header, x-dlq-stacktrace included")
    body: Any = Field(description="the message's JSON body (text if it is not JSON)")


class TopicCount(BaseModel):
    source_topic: str
    pending: int
    replayed: int
    discarded: int


class ActionRequest(BaseModel):
    note: str = Field(default="", max_length=2000, description="why (the fix deployed, the ticket of the incident)")
    force: bool = Field(
        default=False, description="replay again a dead letter replayed before (inboxes absorb duplicates)"
    )


def _box(request: Request) -> DeadLetterBox:
    return request.app.state.runtime.dead_letters  # type: ignore[no-any-return]


def _read(d: DeadLetter) -> DeadLetterRead:
    return DeadLetterRead.model_validate(d.summary())


@router.get("", response_model=list[DeadLetterRead])
async def list_dead_letters(
    request: Request,
    principal: DeadLettersRead,
    topic: Annotated[str | None, Query(description="a source topic (or its .dlq topic)")] = None,
    status: Literal["pending", "replayed", "discarded", "all"] = "pending",
) -> list[DeadLetterRead]:
    """This service's dead letters in the caller's tenant, oldest first."""
    return [_read(d) for d in await _box(request).list(tenant=principal.tenant, topic=topic, status=status)]


@router.get("/summary", response_model=list[TopicCount])
async def summarise_dead_letters(request: Request, principal: DeadLettersRead) -> list[TopicCount]:
    """How many dead letters each source topic has, by status."""
    counts: dict[str, dict[str, int]] = {}
    for d in await _box(request).list(tenant=principal.tenant, status="all"):
        row = counts.setdefault(d.source_topic, {"pending": 0, "replayed": 0, "discarded": 0})
        row[d.status] += 1
    return [TopicCount(source_topic=t, **c) for t, c in sorted(counts.items())]


@router.get("/{message_id}", response_model=DeadLetterDetail, responses=problem_responses(404))
async def show_dead_letter(request: Request, principal: DeadLettersRead, message_id: str) -> DeadLetterDetail:
    """One dead letter with its headers and body."""
    return DeadLetterDetail.model_validate(await _box(request).show(message_id, tenant=principal.tenant))


@router.post("/{message_id}/replay", response_model=DeadLetterRead, responses=problem_responses(404, 409))
async def replay_dead_letter(
    request: Request, principal: DeadLettersReplay, message_id: str, body: ActionRequest | None = None
) -> DeadLetterRead:
    """Publish it again to its source topic (after the fix is deployed); audited."""
    body = body or ActionRequest()
    letter = await _box(request).replay(
        message_id, tenant=principal.tenant, actor=principal.subject, note=body.note, force=body.force
    )
    return _read(letter)


@router.post("/{message_id}/discard", response_model=DeadLetterRead, responses=problem_responses(404, 409))
async def discard_dead_letter(
    request: Request, principal: DeadLettersDiscard, message_id: str, body: ActionRequest | None = None
) -> DeadLetterRead:
    """Mark it as handled without replaying it; audited."""
    body = body or ActionRequest()
    return _read(
        await _box(request).discard(message_id, tenant=principal.tenant, actor=principal.subject, note=body.note)
    )
