"""Checklists per job kind: the tenant's forms, and a work order's answers."""

from __future__ import annotations

from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain.checklists import Checklist, default_for
from dispatch.domain.exceptions import IllegalTransition, NotFound
from dispatch.domain.model import WorkOrder
from dispatch.service_layer.attachments import OPEN, AttachmentStore, StoreFactory, database_store
from fixflow_shared.uow import UnitOfWork


async def for_kind(repo: Repository, job_kind: str) -> Checklist:
    """The tenant's checklist for the job kind, else Fixflow's default."""
    return await repo.checklist(job_kind) or default_for(job_kind)


async def for_work_order(repo: Repository, wo: WorkOrder) -> Checklist:
    job = await repo.job(wo.job_id)
    return await for_kind(repo, job.kind if job else "repair")


async def merge(store: AttachmentStore, wo: WorkOrder, checklist: Checklist, answers: dict[str, Any]) -> None:
    """The answers checked and merged into the work order's (None clears one)."""
    photos = {a.id for a in await store.of_work_order(wo.id) if a.kind == "photo"}
    merged = {**wo.checklist_answers, **checklist.clean(answers, photo_ids=photos)}
    wo.checklist_answers = {k: v for k, v in merged.items() if v is not None}


async def read_config(*, uow: UnitOfWork, tenant_id: str, job_kind: str) -> Checklist:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await for_kind(Repository(uow.session, tenant_id, uow.clock), job_kind)


async def configure(
    *, uow: UnitOfWork, tenant_id: str, job_kind: str, code: str, title: str, fields: list[dict[str, Any]]
) -> Checklist:
    checklist = Checklist.of(code, title, fields)  # 422 on a bad field
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await Repository(uow.session, tenant_id, uow.clock).put_checklist(job_kind, checklist)
        await uow.commit()
    return checklist


async def reset(*, uow: UnitOfWork, tenant_id: str, job_kind: str) -> Checklist:
    """Back to Fixflow's default for the kind."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await Repository(uow.session, tenant_id, uow.clock).drop_checklist(job_kind)
        await uow.commit()
    return default_for(job_kind)


async def of_work_order(*, uow: UnitOfWork, tenant_id: str, work_order_id: str) -> tuple[Checklist, dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        wo = await repo.work_order(work_order_id)
        if wo is None:
            raise NotFound("work order", work_order_id)
        return await for_work_order(repo, wo), dict(wo.checklist_answers)


async def answer(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    work_order_id: str,
    answers: dict[str, Any],
    store_of: StoreFactory = database_store,
) -> tuple[Checklist, dict[str, Any]]:
    """Merge the answers into the work order's (a photo field names a photo attachment of this work
    order). Sending the same answers again changes nothing."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        wo = await repo.work_order(work_order_id, lock=True)
        if wo is None:
            raise NotFound("work order", work_order_id)
        if wo.status not in OPEN:
            raise IllegalTransition("work order", wo.status, "checklist answered", allowed=list(OPEN))
        checklist = await for_work_order(repo, wo)
        await merge(store_of(uow, tenant_id), wo, checklist, answers)
        await repo.save_work_order(wo)
        await uow.commit()
    return checklist, dict(wo.checklist_answers)
