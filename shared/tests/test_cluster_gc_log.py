"""The soak reads the brokers' live heap from their GC logs (KafkaCluster's memory_watch)."""

from pathlib import Path

from fixflow_shared.testing.cluster import KafkaCluster

ROOT = Path(__file__).resolve().parents[2]

# -Xlog:gc as JDK 17 writes it to a file (decorations uptime, level, tags)
LOG = """\
[0.008s][info][gc] Using G1
[1.512s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->6M(384M) 4.512ms
[61.004s][info][gc] GC(1) Pause Young (Concurrent Start) (Metadata GC Threshold) 120M->31M(384M) 9.001ms
[61.020s][info][gc] GC(2) Concurrent Mark Cycle
[62.300s][info][gc] GC(2) Pause Remark 40M->40M(384M) 2.100ms
[63.900s][info][gc] GC(3) Pause Young (Mixed) (G1 Evacuation Pause) 52M->29M(384M) 6.000ms
[1201.5s][info][gc] GC(4) Pause Young (Normal) (G1 Evacuation Pause) 210M->44M(384M) 7.250ms
"""


def test_heap_after_each_collection_is_read_from_the_gc_log() -> None:
    cluster = KafkaCluster(ROOT, memory_watch=True)
    try:
        assert cluster.heap_after_gc_mb(1) == []  # no log yet: nothing, not an error
        log = cluster.dir / "node1" / "gc.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(LOG)
        assert cluster.heap_after_gc_mb(1) == [(1.512, 6), (61.004, 31), (62.3, 40), (63.9, 29), (1201.5, 44)]
        assert cluster.heap_after_gc_mb(1, old_too=True) == [(63.9, 29)]  # the mixed collection only
        assert f"-Xlog:gc:file={log}" in cluster.nodes[0].cluster["KAFKA_JVM_OPTS"]
        assert "-XX:+AlwaysPreTouch" in cluster.nodes[0].cluster["KAFKA_JVM_OPTS"]
    finally:
        cluster.cleanup()


def test_brokers_run_with_the_default_jvm_unless_watched() -> None:
    cluster = KafkaCluster(ROOT)
    try:
        assert all("KAFKA_JVM_OPTS" not in n.cluster for n in cluster.nodes)
    finally:
        cluster.cleanup()


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch) -> None:
    """kafka-storage reads an id starting with '-' as an option and refuses to format."""
    import uuid

    from fixflow_shared.testing import cluster

    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))  # base64url of 0xf8... starts with '-'
    ids = iter([dashed, uuid.UUID(int=1)])
    monkeypatch.setattr(cluster.uuid, "uuid4", lambda: next(ids))
    assert not cluster._random_cluster_id().startswith("-")
