"""Kafka topics: names are contracts (docs/architecture.md, "Topics"). Key = ticket id, so one ticket stays in order.

Domain topics keep their events forever (retention.ms = -1): they are the history insight replays
to rebuild its reports (docs/adr/0011-topic-retention-for-replays.md). Dead letters are kept 30 days.

ALL_TOPICS is the one list. Services never create topics when they start: in Kubernetes the Strimzi
KafkaTopic resources of deploy/kustomize (checked against this list by tests/contract) create them;
everywhere else `python -m fixflow_shared.topics create` does (deploy/local/infra.sh topics, the
`topics` one-shot container of docker-compose.yml, the test sessions' brokers)."""

from __future__ import annotations

from dataclasses import dataclass

INTAKE_TICKETS = "fixflow.intake.tickets"
DISPATCH_WORK_ORDERS = "fixflow.dispatch.work-orders"
BILLING_INVOICES = "fixflow.billing.invoices"
SURVEY_SURVEYS = "fixflow.survey.surveys"
NOTIFY_DELIVERIES = "fixflow.notify.deliveries"
INTEGRATION_PARTS_REQUESTS = "fixflow.integration.parts-requests"
INTEGRATION_SHIPMENTS = "fixflow.integration.shipments"
INSIGHT_ALERTS = "fixflow.insight.alerts"

DLQ_SUFFIX = ".dlq"
KEEP_FOREVER = -1
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 6
    retention_ms: int = KEEP_FOREVER


DOMAIN_TOPICS = (
    INTAKE_TICKETS,
    DISPATCH_WORK_ORDERS,
    BILLING_INVOICES,
    SURVEY_SURVEYS,
    NOTIFY_DELIVERIES,
    INTEGRATION_PARTS_REQUESTS,
    INTEGRATION_SHIPMENTS,
    INSIGHT_ALERTS,
)

# Dead letters are kept longer: an operator has to look at them.
ALL_TOPICS: tuple[TopicSpec, ...] = tuple(TopicSpec(t) for t in DOMAIN_TOPICS) + tuple(
    TopicSpec(dlq(t), partitions=1, retention_ms=DLQ_RETENTION_MS) for t in DOMAIN_TOPICS
)


async def ensure_topics(
    bootstrap_servers: str,
    *,
    replication_factor: int = 1,
    specs: tuple[TopicSpec, ...] = ALL_TOPICS,
) -> None:
    """Create missing topics (the broker has auto-creation off, so production and tests agree) and
    bring the retention of existing ones to the spec (topics created before retention changed)."""
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
        await _align_retention(admin, [s for s in specs if s.name in existing])
    finally:
        await admin.close()


async def _align_retention(admin: object, specs: list[TopicSpec]) -> None:
    """Set retention.ms where it differs from the spec, keeping the topic's other dynamic settings
    (AlterConfigs replaces a topic's whole dynamic set, so the current set is read and resent)."""
    if not specs:
        return
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    from fixflow_shared.logs import get_logger

    want = {s.name: str(s.retention_ms) for s in specs}
    try:
        responses = await admin.describe_configs(  # type: ignore[attr-defined]
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in want]
        )
        changes = []
        for response in responses:
            for resource in response.resources:
                name, entries = resource[3], resource[4]
                dynamic = {e[0]: e[1] for e in entries if _is_dynamic_topic_setting(e) and e[1] is not None}
                current = {e[0]: e[1] for e in entries}.get("retention.ms")
                if name in want and current != want[name]:
                    changes.append(
                        ConfigResource(ConfigResourceType.TOPIC, name, {**dynamic, "retention.ms": want[name]})
                    )
        if changes:
            await admin.alter_configs(changes)  # type: ignore[attr-defined]
            get_logger(__name__).info("topic retention aligned", topics=[c.name for c in changes])
    except Exception as exc:  # a broker that refuses is reported, not fatal: the service still runs
        get_logger(__name__).warning("could not align topic retention", error=repr(exc))


def _is_dynamic_topic_setting(entry: tuple) -> bool:  # type: ignore[type-arg]
    # DescribeConfigs v1+: (name, value, read_only, config_source, is_sensitive, synonyms);
    # config_source 1 = DYNAMIC_TOPIC_CONFIG. v0: (name, value, read_only, is_default, is_sensitive).
    source = entry[3]
    return source == 1 if not isinstance(source, bool) else not source


def main(argv: list[str] | None = None) -> None:
    """`python -m fixflow_shared.topics create`: create the missing topics on KAFKA_BOOTSTRAP_SERVERS
    with KAFKA_TOPIC_REPLICATION_FACTOR replicas (default 1); `list` prints them."""
    import asyncio
    import os
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["list"]:
        for t in ALL_TOPICS:
            print(f"{t.name}\tpartitions={t.partitions}\tretention.ms={t.retention_ms}")
    elif args[:1] == ["create"]:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
        replicas = int(os.environ.get("KAFKA_TOPIC_REPLICATION_FACTOR", "1"))
        asyncio.run(ensure_topics(bootstrap, replication_factor=replicas))
        print(f"{len(ALL_TOPICS)} topics present on {bootstrap}")
    else:
        sys.exit("usage: python -m fixflow_shared.topics create|list")


if __name__ == "__main__":
    main()
