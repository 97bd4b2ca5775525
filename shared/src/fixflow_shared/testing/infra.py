"""Real infrastructure for tests: the repo's local scripts, or testcontainers where a Docker engine
runs (FIXFLOW_TEST_INFRA=docker|local|auto, default auto). Never a server started by hand."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def repo_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "deploy" / "local" / "infra.sh").exists():
            return p
    raise RuntimeError("cannot find deploy/local/infra.sh above " + str(here))


def docker_engine_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def use_docker() -> bool:
    mode = os.environ.get("FIXFLOW_TEST_INFRA", "auto")
    return mode == "docker" or (mode == "auto" and docker_engine_available())


@dataclass
class KafkaBroker:
    """A broker of its own for a test session (fresh storage, free ports) that tests may kill."""

    root: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fixflow-kafka-")))
    # What makes it a node of a cluster (fixflow_shared.testing.cluster); alone by default.
    cluster: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process while it runs."""
        try:
            pid = int((self.dir / "kafka.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def _script(self, *args: str) -> None:
        subprocess.run(
            [str(self.root / "deploy/local/infra.sh"), *args],
            check=True,
            timeout=180,
            env={**os.environ, **self.cluster},
        )

    def start(self) -> None:
        self._script("kafka-start", str(self.port), str(self.controller_port), str(self.dir))

    def stop(self) -> None:
        self._script("kafka-stop", str(self.dir))

    def kill(self) -> None:
        """kill -9: the crash case."""
        pid_file = self.dir / "kafka.pid"
        if pid_file.exists():
            subprocess.run(["kill", "-9", pid_file.read_text().strip()], check=False)
            pid_file.unlink()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class LocalStores:
    """PostgreSQL and Redis from the repo's script (installs them if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def start(self) -> None:
        subprocess.run([str(self.root / "deploy/local/infra.sh"), "start-stores"], check=True, timeout=600)

    @property
    def pg_port(self) -> int:
        # FIXFLOW_TEST_PG_PORT points the tests at another PostgreSQL cluster with the same roles
        # (scripts/time-of-day.sh runs one on a faked clock).
        return int(os.environ.get("FIXFLOW_TEST_PG_PORT", "5432"))

    @property
    def redis_url(self) -> str:
        # FIXFLOW_TEST_REDIS_PORT lets two checkouts run their suites at once, each with a Redis of
        # its own (sessions flush their databases).
        return f"redis://127.0.0.1:{os.environ.get('FIXFLOW_TEST_REDIS_PORT', '6379')}/15"


def unique_db_name(service: str) -> str:
    return f"{service}_test_{uuid.uuid4().hex[:10]}"
