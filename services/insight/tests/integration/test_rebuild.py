"""`insight rebuild`: after a replay from the start of the topics into emptied projections, the
same figures; quality alerts already raised are not raised again; the live group resumes after the
replay; and topics created with a shorter retention are brought to the spec."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from insight_test_streams import PERIOD, eventually, publish, stream
from sqlalchemy import func, select

from fixflow_shared import topics
from fixflow_shared.testing.plugin import own_kafka, running_service
from insight import views
from insight.adapters.orm import quality_alerts
from insight.bootstrap import build
from insight.config import InsightSettings
from insight.service_layer import quality
from insight.service_layer.rebuild import GroupActive, rebuild

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(fixflow_root: Path) -> Iterator[Any]:
    """A broker of this module alone: the rebuild reads every topic and moves the group's offsets."""
    yield from own_kafka(fixflow_root)


async def _all_figures(runtime: Any, tenant: str) -> dict[str, Any]:
    out = {"all": await views.kpi_figures(uow=runtime.uow(), tenant=tenant, start=PERIOD[0], end=PERIOD[1])}
    for g in ("team", "technician", "region", "product_model", "channel", "kind", "week"):
        out[g] = await views.kpi_figures(uow=runtime.uow(), tenant=tenant, start=PERIOD[0], end=PERIOD[1], group_by=g)
    return out


async def _alerts(runtime: Any, tenants: list[str]) -> int:
    total = 0
    for t in tenants:
        async with runtime.uow() as uow:
            await uow.scope_to_tenant(t)  # alerts are tenant rows (row-level security)
            total += int(await uow.session.scalar(select(func.count()).select_from(quality_alerts)))
    return total


async def test_rebuild_reproduces_the_figures(broker, make_database: Callable[[str], str], redis_url):
    tenants = ["acme-" + uuid.uuid4().hex[:8] for _ in range(3)]
    db = make_database("insight")
    common = dict(kafka_bootstrap_servers=broker.bootstrap, redis_url=redis_url, database_url=db)
    async with running_service(
        "insight", InsightSettings, kafka=broker, make_database=lambda _: db, redis_url=redis_url, run_timers=False
    ) as (runtime, _):
        rule = {"id": "model-cause", "dimension": "product_model_fault_cause", "threshold": 2, "window_days": 30}
        for t in tenants:
            await quality.put_rules(uow=runtime.uow(), tenant=t, rules=[rule], by="qa")
            await publish(broker.bootstrap, stream(t))

        async def projected() -> bool:
            f = await views.kpi_figures(uow=runtime.uow(), tenant=tenants[-1], start=PERIOD[0], end=PERIOD[1])
            return f["revisits"]["done"] == 1 and f["complaints"]["count"] == 1 and f["tickets"]["resolved"] == 2

        await eventually(projected)
        with pytest.raises(GroupActive):
            await rebuild(runtime)  # refuses while the live consumer is in its group
        live = {t: await _all_figures(runtime, t) for t in tenants}
        alerts = await _alerts(runtime, tenants)
        assert alerts == 3  # one per tenant: KF-35 with a compressor fault twice
    offline, _ = build(InsightSettings(**common, run_consumers=False, run_timers=False))
    await offline.start()
    try:
        result = await rebuild(offline, batch=7)
        assert result.events == 3 * len(stream("x")) and result.skipped == 0 and result.trimmed == {}
        for t in tenants:
            assert await _all_figures(offline, t) == live[t], t
        assert await _alerts(offline, tenants) == alerts  # nothing raised twice
    finally:
        await offline.stop()
    # the live consumer resumes after the replay: nothing applied twice
    async with running_service(
        "insight", InsightSettings, kafka=broker, make_database=lambda _: db, redis_url=redis_url, run_timers=False
    ) as (runtime, _):
        extra = "acme-" + uuid.uuid4().hex[:8]
        await publish(broker.bootstrap, stream(extra))

        async def caught_up() -> bool:
            f = await views.kpi_figures(uow=runtime.uow(), tenant=extra, start=PERIOD[0], end=PERIOD[1])
            return f["revisits"]["done"] == 1 and f["complaints"]["count"] == 1 and f["tickets"]["resolved"] == 2

        await eventually(caught_up)
        for t in tenants:
            assert await _all_figures(runtime, t) == live[t]


async def test_existing_topics_get_the_retention_of_the_spec(broker):
    name = "fixflow.test.retention-" + uuid.uuid4().hex[:6]
    spec = topics.TopicSpec(name, partitions=1)
    old = topics.TopicSpec(name, partitions=1, retention_ms=7 * 24 * 3600 * 1000)
    await topics.ensure_topics(broker.bootstrap, specs=(old,))
    await topics.ensure_topics(broker.bootstrap, specs=(spec,))
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
        entries = {e[0]: e[1] for e in response.resources[0][4]}
    finally:
        await admin.close()
    assert entries["retention.ms"] == "-1"
