"""Every KPI of a known event stream against figures worked out by hand; the same figures when the
events come shuffled, in random batches, and each one twice."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

import pytest
from insight_test_streams import EXPECTED, EXPECTED_BY_TECHNICIAN, PERIOD, stream
from sqlalchemy import select

from insight import views
from insight.adapters.orm import kpi_daily
from insight.domain.sketch import RELATIVE_ACCURACY
from insight.service_layer.projector import apply_batch

pytestmark = pytest.mark.integration


def _tenant() -> str:
    return "acme-" + uuid.uuid4().hex[:8]


async def _feed(runtime: Any, events: list, sizes: random.Random | None = None) -> None:
    i = 0
    while i < len(events):
        n = sizes.randint(1, 7) if sizes else 1
        await apply_batch(runtime.uow(), [(e, e.payload()) for e in events[i : i + n]])
        i += n


def _assert_close(got: Any, want: Any, path: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(want) <= set(got), f"{path}: {got}"
        for k, v in want.items():
            _assert_close(got[k], v, f"{path}.{k}")
    elif path.rsplit(".", 1)[-1].startswith("p") and path.endswith("_s") and want is not None:
        # percentiles come from the daily histograms: within 1 % of the exact nearest-rank value
        assert got is not None and abs(got - want) <= RELATIVE_ACCURACY * want + 0.1, f"{path}: {got} vs {want}"
    else:
        assert got == want, f"{path}: {got} != {want}"


async def _figures(runtime: Any, tenant: str, **kw: Any) -> dict[str, Any]:
    return await views.kpi_figures(uow=runtime.uow(), tenant=tenant, start=PERIOD[0], end=PERIOD[1], **kw)


async def _aggregates(runtime: Any, tenant: str) -> set[tuple[Any, ...]]:
    k = kpi_daily.c
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            select(k.dim, k.dim_value, k.day, k.metric, k.n, k.total, k.hist).where(
                k.tenant_id == tenant, (k.n != 0) | (k.total != 0) | k.hist.is_not(None)
            )
        )
        return {(*r[:6], tuple(sorted((r[6] or {}).items()))) for r in rows.all()}


async def test_every_kpi_matches_the_hand_computed_figures(projector_runtime):
    tenant = _tenant()
    await _feed(projector_runtime, stream(tenant))
    _assert_close(await _figures(projector_runtime, tenant), EXPECTED)


async def test_per_technician_figures(projector_runtime):
    tenant = _tenant()
    await _feed(projector_runtime, stream(tenant))
    by = (await _figures(projector_runtime, tenant, group_by="technician"))["groups"]
    for tech, want in EXPECTED_BY_TECHNICIAN.items():
        assert by[tech]["first_time_fix"]["rate"] == want["first_time_fix"]
        assert by[tech]["complaints"]["per_100_jobs"] == want["complaints_per_100"]
        assert by[tech]["first_response"]["count"] == want["first_responses"]
        assert by[tech]["tickets"]["jobs"] == want["jobs"]
    one = await _figures(projector_runtime, tenant, dim="technician", value="K2")
    assert one["complaints"]["count"] == 1 and one["parts_waiting"]["count"] == 1
    models = (await _figures(projector_runtime, tenant, group_by="product_model"))["groups"]
    assert models["KF-35"]["tickets"]["opened"] == 2 and models["KF-50"]["tickets"]["opened"] == 2
    assert models["KF-35"]["repeat_repairs"]["within_30d"] == 1
    regions = (await _figures(projector_runtime, tenant, group_by="region"))["groups"]
    assert regions["CN-31"]["first_time_fix"]["completions"] == 2
    teams = (await _figures(projector_runtime, tenant, group_by="team"))["groups"]
    assert teams["TA"]["first_time_fix"]["completions"] == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_shuffled_batched_and_duplicated_events_give_the_same_figures(projector_runtime, seed):
    rng = random.Random(seed)
    in_order, shuffled = _tenant(), _tenant()
    await _feed(projector_runtime, stream(in_order))
    events = stream(shuffled) * 2  # every event delivered twice (same id): the inbox skips the copy
    rng.shuffle(events)
    await _feed(projector_runtime, events, sizes=rng)
    _assert_close(await _figures(projector_runtime, shuffled), EXPECTED)
    assert await _aggregates(projector_runtime, shuffled) == await _aggregates(projector_runtime, in_order)


async def test_a_batch_of_several_tenants_gives_each_its_own_figures(projector_runtime):
    """One transaction writes several tenants through the same staging tables: nothing of one
    tenant's rows may reach the next tenant's merge (daily, monthly, facts, faults)."""
    alone, first, second = _tenant(), _tenant(), _tenant()
    await _feed(projector_runtime, stream(alone))
    both = [*stream(first), *stream(second)]
    await apply_batch(projector_runtime.uow(), [(e, e.payload()) for e in both])
    for tenant in (first, second):
        _assert_close(await _figures(projector_runtime, tenant), EXPECTED)
        assert await _aggregates(projector_runtime, tenant) == await _aggregates(projector_runtime, alone)
        year = [
            await views.kpi_figures(uow=projector_runtime.uow(), tenant=t, start=date(2025, 1, 1), end=date(2026, 1, 1))
            for t in (tenant, alone)
        ]
        assert year[0]["tickets"]["opened"] > 0
        assert {**year[0], "tenant_id": alone} == year[1], "a year reads the monthly rows"
    for group_by in ("product_model", "fault_cause"):
        assert await views.fault_counts(
            uow=projector_runtime.uow(), tenant=first, start=PERIOD[0], end=PERIOD[1], group_by=group_by
        ) == await views.fault_counts(
            uow=projector_runtime.uow(), tenant=alone, start=PERIOD[0], end=PERIOD[1], group_by=group_by
        )


async def test_a_period_outside_the_events_is_empty(projector_runtime):
    tenant = _tenant()
    await _feed(projector_runtime, stream(tenant))
    from datetime import date

    empty = await views.kpi_figures(
        uow=projector_runtime.uow(), tenant=tenant, start=date(2024, 1, 1), end=date(2024, 2, 1)
    )
    assert empty["tickets"]["opened"] == 0 and empty["first_time_fix"]["rate"] is None


@pytest.mark.parametrize(
    "start,end",
    [("2025-03-01", "2025-05-01"), ("2025-02-15", "2025-04-10"), ("2025-01-01", "2026-01-01")],
    ids=["whole months", "days around a month", "a year"],
)
async def test_periods_read_from_monthly_rows_give_the_same_figures(projector_runtime, start, end):
    """Whole months come from the monthly rollup, the days at either end from the daily rows."""
    from datetime import date

    tenant = _tenant()
    await _feed(projector_runtime, stream(tenant))
    got = await views.kpi_figures(
        uow=projector_runtime.uow(), tenant=tenant, start=date.fromisoformat(start), end=date.fromisoformat(end)
    )
    _assert_close(got, EXPECTED)
    by_month = await views.kpi_figures(
        uow=projector_runtime.uow(),
        tenant=tenant,
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        group_by="month",
    )
    assert list(by_month["groups"]) == ["2025-03-01"]
    _assert_close(by_month["groups"]["2025-03-01"], EXPECTED)
    by_tech = await views.kpi_figures(
        uow=projector_runtime.uow(),
        tenant=tenant,
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        group_by="technician",
    )
    assert by_tech["groups"]["K2"]["complaints"]["per_100_jobs"] == 100.0
