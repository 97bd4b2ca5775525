"""Intake throughput: tickets/s accepted by POST /v1/tickets (target >= 1,000/s on 2 cores with all
infrastructure local), and what telemetry costs (target <= 10%).

Starts intake as a real process against a throw-away database on the local PostgreSQL and a Kafka
broker of its own (so the services of `make run`, which consume the shared broker on 9092, never see
the bench's tickets and do not compete for the CPU afterwards), drives
it with wrk (installed from Debian's packages if missing) for a fixed time, and prints requests/s,
latency percentiles and the error count, once with tracing exported over OTLP (to a local receiver)
and once with the OpenTelemetry SDK disabled.

    .venv/bin/python bench/intake_throughput.py [--seconds 15] [--connections 32]

Also prints the resident memory of the intake processes (uvicorn supervisor, its spawn helper and
each worker) at the end of the run.

Measured on the 2-core development VM (2026-11-23, PostgreSQL, Kafka, Redis and wrk on the same two
cores; run-to-run spread ~15 %), 2 workers, 32 connections: every span traced 180-227 tickets/s
(p50 130-170 ms, p99 310-400 ms), 10 % sampled 216-256/s, 10 % sampled without SQL spans 267-276/s,
SDK off 236-288/s; no errors. Telemetry costs 14-32 % fully traced, 10-19 % at 10 % sampling, ~3 %
sampled without SQL spans. At 4 connections: 10 % sampled ~236-304/s with p50 12-15 ms, p99 38-70
ms; fully traced 165-213/s, p99 110-137 ms. Workers hold 130-146 MiB RSS each (supervisor 37 MiB,
spawn helper 12 MiB). One worker, SDK off: 1 connection 69/s p50 13 ms (a request waits on 7 round
trips and the commit's WAL flush), 32 connections ~270/s.
The path from 48 to ~285/s: uvloop+httptools, SLA clocks written once per use case (15 -> 7
statements per ticket), no thread-pool hop per request, a batch timeline consumer, hot selects built
once, two workers. What is left is Python per request (SQLAlchemy statement handling ~25 %, asyncpg
~20 %, FastAPI, pydantic and middlewares ~15 %): the 1,000/s target needs fewer layers per statement
or more cores, not more tuning.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))

from fixflow_shared.migrations import upgrade  # noqa: E402
from fixflow_shared.testing import auth_headers  # noqa: E402
from fixflow_shared.testing.infra import KafkaBroker  # noqa: E402
from fixflow_shared.testing.otlp import OtlpReceiver  # noqa: E402
from fixflow_shared.testing.processes import ServiceProcess  # noqa: E402

LUA = """
-- The script goes through str.format: braces are doubled, everything else is plain Lua.
-- wrk does not stop on a Lua error: it prints it on stderr and falls back to GET /, so every
-- response is a 404 (that is how an earlier version of this script, with `%%` in Lua code, failed).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{auth}"
-- Each wrk thread has its own Lua state: number the threads so their phones never collide.
threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
counter = 0
request = function()
  counter = counter + 1
  -- distinct phone per request, so intake's duplicate check (same phone + similar symptom) never merges them
  local n = tid * 50000000 + (counter + {salt}) % 50000000
  local body = string.format('{{"kind":"repair","channel":"web","symptom":"bench %d","customer_name":"Bench","contact_phone":"+86138%08d"}}', n, n)
  return wrk.format(nil, "/v1/tickets", nil, body)
end
"""


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


async def make_db() -> str:
    name = f"intake_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect("postgresql://intake:intake@127.0.0.1:5432/intake")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name


async def drop_db(name: str) -> None:
    conn = await asyncpg.connect("postgresql://intake:intake@127.0.0.1:5432/intake")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def run_wrk(wrk: str, url: str, seconds: int, connections: int, script: Path) -> dict[str, str]:
    proc = subprocess.run(
        [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    if proc.stderr.strip():  # a Lua error: wrk would silently send GET / instead
        raise SystemExit(f"wrk script error: {proc.stderr.strip()}")
    out = proc.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    return {
        "rps": rps.group(1) if rps else "?",
        "p50": lat.get("50", "?"),
        "p90": lat.get("90", "?"),
        "p99": lat.get("99", "?"),
        "errors": non2xx.group(1) if non2xx else "0",
    }


def rss_mib(pid: int) -> list[float]:
    """Resident memory of a process and its children (uvicorn workers), MiB each."""
    pids = [pid] + [int(d) for d in os.listdir("/proc") if d.isdigit() and _ppid(int(d)) == pid]
    out = []
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return out


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (INTAKE_HTTP_WORKERS)")
    ap.add_argument(
        "--light-connections",
        type=int,
        default=4,
        help="connections of the latency row (traced): about half the maximum load",
    )
    a = ap.parse_args()
    wrk = ensure_wrk()
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        LUA.format(
            auth=auth_headers("bench", "agent")["Authorization"], salt=int.from_bytes(os.urandom(3), "big") % 40_000_000
        )
    )
    receiver = OtlpReceiver()
    receiver.start()
    broker = KafkaBroker(ROOT)
    broker.start()
    print(
        f"intake POST /v1/tickets, {a.workers} worker process(es), wrk {a.connections} connections, {a.seconds}s per row"
    )
    print(f"{'telemetry':<22} {'tickets/s':>10} {'p50':>9} {'p90':>9} {'p99':>9} {'non-2xx':>8}  memory (RSS, MiB)")
    try:
        results = {}
        sampled = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        }
        for label, env in (
            ("traced, OTLP export", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}),
            ("traced, 10% sampled", sampled),
            ("10% sampled, no SQL", {**sampled, "FIXFLOW_TRACE_SQL": "false"}),
            ("SDK disabled", {"OTEL_SDK_DISABLED": "true"}),
        ):
            db = asyncio.run(make_db())
            url = f"postgresql+asyncpg://intake:intake@127.0.0.1:5432/{db}"
            upgrade(ROOT / "services" / "intake", url)
            proc = ServiceProcess(
                "intake",
                {
                    "INTAKE_DATABASE_URL": url,
                    "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                    "REDIS_URL": "redis://127.0.0.1:6379/14",
                    "LOG_LEVEL": "WARNING",
                    "INTAKE_DB_POOL_SIZE": "20",
                    "INTAKE_HTTP_WORKERS": str(a.workers),
                    **env,
                },
                Path(tempfile.mkdtemp()),
            )
            proc.start()
            try:
                run_wrk(wrk, proc.url, 3, a.connections, script)  # warm-up
                r = run_wrk(wrk, proc.url, a.seconds, a.connections, script)
                assert proc.proc is not None
                r["rss"] = " + ".join(f"{m:.0f}" for m in rss_mib(proc.proc.pid))
                if label.startswith("traced"):
                    light = run_wrk(wrk, proc.url, a.seconds, a.light_connections, script)
                    light["rss"] = ""
                    results[f"traced, {a.light_connections} connections"] = light
            finally:
                proc.stop()
                asyncio.run(drop_db(db))
            results[label] = r
            for k, row in sorted(results.items(), key=lambda kv: "connections" in kv[0]):
                if k == label or ("connections" in k and label.startswith("traced")):
                    print(
                        f"{k:<22} {row['rps']:>10} {row['p50']:>9} {row['p90']:>9} {row['p99']:>9} {row['errors']:>8}  {row['rss']}"
                    )
    finally:
        receiver.stop()
        broker.cleanup()
    try:
        off = float(results["SDK disabled"]["rps"])
        for label in ("traced, OTLP export", "traced, 10% sampled", "10% sampled, no SQL"):
            print(f"telemetry cost, {label}: {100 * (1 - float(results[label]['rps']) / off):.1f}% of throughput")
    except (KeyError, ValueError):
        pass


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
