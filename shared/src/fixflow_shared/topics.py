"""Kafka topics: names are contracts (docs/architecture.md, "Topics"). Key = ticket id, so one ticket stays in order."""

from __future__ import annotations

from dataclasses import dataclass

INTAKE_TICKETS = "fixflow.intake.tickets"
DISPATCH_WORK_ORDERS = "fixflow.dispatch.work-orders"
BILLING_INVOICES = "fixflow.billing.invoices"
SURVEY_SURVEYS = "fixflow.survey.surveys"
NOTIFY_DELIVERIES = "fixflow.notify.deliveries"
INTEGRATION_PARTS_REQUESTS = "fixflow.integration.parts-requests"
INTEGRATION_SHIPMENTS = "fixflow.integration.shipments"

DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 6
    retention_ms: int = 7 * 24 * 3600 * 1000


DOMAIN_TOPICS = (
    INTAKE_TICKETS,
    DISPATCH_WORK_ORDERS,
    BILLING_INVOICES,
    SURVEY_SURVEYS,
    NOTIFY_DELIVERIES,
    INTEGRATION_PARTS_REQUESTS,
    INTEGRATION_SHIPMENTS,
)

# Dead letters are kept longer: an operator has to look at them.
ALL_TOPICS: tuple[TopicSpec, ...] = tuple(TopicSpec(t) for t in DOMAIN_TOPICS) + tuple(
    TopicSpec(dlq(t), partitions=1, retention_ms=30 * 24 * 3600 * 1000) for t in DOMAIN_TOPICS
)


async def ensure_topics(
    bootstrap_servers: str,
    *,
    replication_factor: int = 1,
    specs: tuple[TopicSpec, ...] = ALL_TOPICS,
) -> None:
    """Create missing topics (the broker has auto-creation off, so production and tests agree)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=s.name,
                num_partitions=s.partitions,
                replication_factor=replication_factor,
                topic_configs={"retention.ms": str(s.retention_ms)},
            )
            for s in specs
            if s.name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created it concurrently
    finally:
        await admin.close()
