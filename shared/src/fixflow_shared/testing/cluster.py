"""A three-broker Kafka cluster (KRaft, each node broker and controller) for reliability tests.

Started from the same jars as KafkaBroker (FIXFLOW_KAFKA_LIBS, default <repo>/.local/kafka/libs),
on free loopback ports with fresh storage, configured as production is (deploy/kustomize): topics
with replication factor 3 and min.insync.replicas 2, so a producer with acks=all (every producer
of the services: fixflow_shared.outbox.make_producer and the runtime's broker) is acknowledged only
once two brokers hold the record, and a cluster that lost one broker still takes writes.

    cluster = KafkaCluster(root)
    cluster.start()                       # three JVMs; the project's topics created with 3 replicas
    node = cluster.busiest_leader()       # the node leading the most partitions
    cluster.kill(node)                    # kill -9
    cluster.start_node(node)              # back with its data; it catches up and rejoins the ISR
    cluster.cleanup()
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fixflow_shared.testing.infra import free_port

NODES = 3
PROPERTIES = """\
process.roles=broker,controller
node.id={node}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
log.retention.hours=168
"""


@dataclass
class Node:
    id: int
    dir: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None


class KafkaCluster:
    """Three local brokers of a test's own; `bootstrap` names all three."""

    def __init__(self, root: Path, *, heap_mb: int = 384) -> None:
        self.root = root
        self.libs = Path(os.environ.get("FIXFLOW_KAFKA_LIBS", str(root / ".local" / "kafka" / "libs")))
        self.dir = Path(tempfile.mkdtemp(prefix="fixflow-kafka3-"))
        self.heap_mb = heap_mb
        self.nodes = [Node(i, self.dir / f"node{i}") for i in range(1, NODES + 1)]
        self.cluster_id = ""

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id - 1]

    def _java(self, *args: str) -> list[str]:
        log4j = self.root / "deploy" / "local" / "kafka" / "log4j2.properties"
        return ["java", "-cp", f"{self.libs}/*", f"-Dlog4j2.configurationFile={log4j}", *args]

    def _configure(self) -> None:
        voters = ",".join(f"{n.id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        self.cluster_id = _random_cluster_id()
        for n in self.nodes:
            (n.dir / "data").mkdir(parents=True, exist_ok=True)
            props = PROPERTIES.format(
                node=n.id, voters=voters, port=n.port, cport=n.controller_port, data=n.dir / "data"
            )
            (n.dir / "server.properties").write_text(props)
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    self.cluster_id,
                    "-c",
                    str(n.dir / "server.properties"),
                    "--ignore-formatted",
                ),
                check=True,
                capture_output=True,
                timeout=120,
            )

    def start(self, timeout: float = 120.0) -> None:
        """Format (once), start the three nodes, wait until every one serves, create the topics."""
        if not self.cluster_id:
            self._configure()
        for n in self.nodes:
            self._spawn(n)
        for n in self.nodes:
            self._wait_started(n, timeout)
        from fixflow_shared.topics import ensure_topics

        asyncio.run(ensure_topics(self.bootstrap, replication_factor=NODES))
        asyncio.run(self.wait_fully_replicated(timeout))

    def _spawn(self, n: Node) -> None:
        log = (n.dir / "kafka.log").open("ab")
        n.proc = subprocess.Popen(
            [
                "java",
                f"-Xms{self.heap_mb // 2}m",
                f"-Xmx{self.heap_mb}m",
                "-XX:+UseG1GC",
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={n.dir}",
                *self._java("kafka.Kafka", str(n.dir / "server.properties"))[1:],
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        (n.dir / "kafka.pid").write_text(str(n.proc.pid))

    def _wait_started(self, n: Node, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log = n.dir / "kafka.log"
        while time.monotonic() < deadline:
            if n.proc is None or n.proc.poll() is not None:
                raise RuntimeError(f"kafka node {n.id} exited:\n{_tail(log)}")
            if "Kafka Server started" in log.read_text(errors="replace"):
                return
            time.sleep(0.25)
        raise RuntimeError(f"kafka node {n.id} did not start in {timeout:.0f} s:\n{_tail(log)}")

    def start_node(self, node_id: int, timeout: float = 120.0) -> None:
        """Start a stopped or killed node again (same data, ports and id)."""
        n = self.node(node_id)
        if n.pid is None:
            with (n.dir / "kafka.log").open("a") as f:
                f.write("\n--- restarted ---\n")
            # The restart's own "started" line is what counts: cut the log before it.
            (n.dir / "kafka.log").rename(n.dir / f"kafka.{int(time.time() * 1000)}.log")
            self._spawn(n)
            self._wait_started(n, timeout)

    def kill(self, node_id: int) -> None:
        """kill -9 of one node: the crash case."""
        n = self.node(node_id)
        if n.proc and n.proc.poll() is None:
            n.proc.send_signal(signal.SIGKILL)
            n.proc.wait()

    def stop(self) -> None:
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                n.proc.terminate()
        for n in self.nodes:
            if n.proc:
                try:
                    n.proc.wait(30)
                except subprocess.TimeoutExpired:
                    n.proc.kill()
                    n.proc.wait()

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

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""
