"""A three-broker Kafka cluster (KRaft, each node broker and controller) for reliability tests.

Each node is a KafkaBroker (deploy/local/infra.sh and its one broker configuration, on free
loopback ports with fresh storage), configured as production is (deploy/kustomize): topics
with replication factor 3 and min.insync.replicas 2, so a producer with acks=all (every producer
of the services: fixflow_shared.outbox.make_producer and the runtime's broker) is acknowledged only
once two brokers hold the record, and a cluster that lost one broker still takes writes.

    cluster = KafkaCluster(root)
    cluster.start()                       # three JVMs; the project's topics created with 3 replicas
    node = asyncio.run(cluster.busiest_leader())   # the node leading the most partitions
    cluster.kill(node)                    # kill -9
    cluster.start_node(node)              # back with its data; it catches up and rejoins the ISR
    cluster.cleanup()
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fixflow_shared.testing.infra import KafkaBroker

NODES = 3
# -Xlog:gc's line: "[12.345s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 150M->40M(384M) 5.1ms"
_GC_LINE = re.compile(
    r"^\[(?P<uptime>[\d.]+)s\]\[\w+\]\[gc\] GC\(\d+\) (?P<what>.*?) (?P<before>\d+)M->(?P<after>\d+)M\(\d+M\)", re.M
)


class KafkaCluster:
    """Three local brokers of a test's own; `bootstrap` names all three. Each node is a KafkaBroker
    (deploy/local/infra.sh starts, stops and waits for it, from the one broker configuration)
    told its node id, the three voters, the replication factors and the cluster's id."""

    def __init__(self, root: Path, *, heap_mb: int = 384, memory_watch: bool = False) -> None:
        """memory_watch (the soak): each JVM touches its whole heap at start (-Xms = -Xmx,
        AlwaysPreTouch), so its RSS no longer rises as the heap is first used and any growth left is
        what a leak would grow, and logs every collection to its node's gc.log (heap_after_gc_mb)."""
        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="fixflow-kafka3-"))
        self.nodes = [KafkaBroker(root, dir=self.dir / f"node{i}") for i in range(1, NODES + 1)]
        voters = ",".join(f"{i}@127.0.0.1:{n.controller_port}" for i, n in enumerate(self.nodes, 1))
        cluster_id = _random_cluster_id()
        for i, n in enumerate(self.nodes, 1):
            n.cluster = {
                "KAFKA_NODE_ID": str(i),
                "KAFKA_VOTERS": voters,
                "KAFKA_REPLICAS": str(NODES),
                "KAFKA_MIN_ISR": "2",
                "KAFKA_CLUSTER_ID": cluster_id,
                "KAFKA_HEAP_MB": str(heap_mb),
                # three JVMs starting at once on a small machine: as long as the old cluster waited
                "KAFKA_START_S": "120",
            }
            if memory_watch:
                gc_log = self.dir / f"node{i}" / "gc.log"
                n.cluster["KAFKA_JVM_OPTS"] = f"-Xms{heap_mb}m -XX:+AlwaysPreTouch -Xlog:gc:file={gc_log}"

    def heap_after_gc_mb(self, node_id: int, *, old_too: bool = False) -> list[tuple[float, int]]:
        """(seconds since the JVM started, heap in use right after the collection, MB) for every
        collection its gc.log holds (memory_watch only; empty otherwise). With old_too, only those
        that also reclaimed the old generation (G1's mixed and full collections): after a young
        one the heap still holds the old generation's garbage up to the next marking, so only these
        come close to the live data, which is what a leak would grow."""
        path = self.dir / f"node{node_id}" / "gc.log"
        if not path.exists():
            return []
        out = []
        for m in _GC_LINE.finditer(path.read_text(errors="replace")):
            if old_too and "(Mixed)" not in m["what"] and not m["what"].startswith("Pause Full"):
                continue
            out.append((float(m["uptime"]), int(m["after"])))
        return out

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    def node(self, node_id: int) -> KafkaBroker:
        return self.nodes[node_id - 1]

    def start(self, timeout: float = 120.0) -> None:
        """Start the three nodes together (a node serves only once a quorum of voters runs), then
        create the topics with three replicas and wait until every partition has all three in sync."""
        with ThreadPoolExecutor(NODES) as pool:
            for started in [pool.submit(n.start) for n in self.nodes]:
                started.result()
        from fixflow_shared.topics import ensure_topics

        asyncio.run(ensure_topics(self.bootstrap, replication_factor=NODES))
        asyncio.run(self.wait_fully_replicated(timeout))

    def start_node(self, node_id: int) -> None:
        """Start a stopped or killed node again (same data, ports and id); it catches up and rejoins."""
        self.node(node_id).start()

    def kill(self, node_id: int) -> None:
        """kill -9 of one node: the crash case."""
        self.node(node_id).kill()

    def stop(self) -> None:
        with ThreadPoolExecutor(NODES) as pool:
            list(pool.map(KafkaBroker.stop, self.nodes))

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def leaders(self) -> dict[tuple[str, int], tuple[int, list[int], list[int]]]:
        """{(topic, partition): (leader node id, replicas, in-sync replicas)} of every topic."""
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if not t.startswith("__")]
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        out: dict[tuple[str, int], tuple[int, list[int], list[int]]] = {}
        for t in described:
            for p in t["partitions"]:
                out[(t["topic"], p["partition"])] = (p["leader"], list(p["replicas"]), list(p["isr"]))
        return out

    async def busiest_leader(self) -> int:
        """The node leading the most partitions (the one whose loss moves the most leadership)."""
        counts = Counter(leader for leader, _, _ in (await self.leaders()).values() if leader >= 0)
        return counts.most_common(1)[0][0]

    async def wait_fully_replicated(self, timeout: float = 120.0) -> None:
        """Until every partition has a leader and all three replicas in sync."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                parts = await self.leaders()
                short = [k for k, (leader, _, isr) in parts.items() if leader < 0 or len(isr) < NODES]
                if parts and not short:
                    return
                last = short[:5]
            except Exception as exc:  # noqa: BLE001 - a node still starting
                last = exc
            await asyncio.sleep(0.5)
        raise TimeoutError(f"partitions not fully replicated after {timeout:.0f} s: {last!r}")


def _random_cluster_id() -> str:
    import base64

    # As Kafka's own Uuid.randomUuid: never one starting with '-', which kafka-storage's argument
    # parser takes for an option (about 1 in 64 ids; the cluster then failed to format and start).
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id
