"""All services as separate processes against the session's real broker, databases, Redis,
SMTP server and OTLP receiver."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixflow_shared.testing.infra import KafkaBroker
from fixflow_shared.testing.plugin import flushed_redis_db, own_kafka
from fixflow_shared.testing.processes import ServiceProcess, stop_all


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[KafkaBroker]:
    """A broker of the end-to-end tests' own: the service tests' in-process runtimes, still
    consuming in the same session under the same group ids, must not steal these events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
def redis_url(stores: Any) -> str:
    """Likewise a Redis database of their own (timer wheels are keyed by service name)."""
    return flushed_redis_db(stores, 14)


@pytest.fixture(scope="session")
def service_env(
    kafka: Any, redis_url: str, smtp_server: Any, otlp_receiver: Any, sms_gateway: Any, zipkin: Any
) -> dict[str, str]:
    from lifecycle_kit import PORTAL_IN_MESSAGES

    return {
        "NOTIFY_SMS_PRIMARY_URL": sms_gateway.url,
        "SURVEY_TIMER_POLL_S": "0.2",
        "INTAKE_CONSUMER_MEMBERS": "2",
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "REDIS_URL": redis_url,
        # Spans go both ways: OTLP (the production path) to the receiver the scenarios read, and to
        # the local trace viewer make run starts (test_ticket_trace_in_zipkin reads it as an operator would).
        "OTEL_TRACES_EXPORTER": "otlp,zipkin",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": zipkin.spans_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "FIXFLOW_ENV": "test",
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": str(smtp_server.port),
        "NOTIFY_PORTAL_URL": PORTAL_IN_MESSAGES,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="session")
def start_services(
    service_env: dict[str, str], make_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., dict[str, ServiceProcess]]]:
    started: dict[str, ServiceProcess] = {}
    logs = Path(tmp_path_factory.mktemp("service-logs"))

    def start(*names: str) -> dict[str, ServiceProcess]:
        """The services named, launched together and then each waited for (one after the other,
        each importing and starting alone, they took over 30 s). Their databases are migrated one
        by one first: Alembic's context is one global per process."""
        new = [n for n in dict.fromkeys(names) if n not in started]
        urls = {name: make_database(name) for name in new}
        procs = []
        for name in new:
            env = {
                **service_env,
                f"{name.upper()}_DATABASE_URL": urls[name],
                f"{name.upper()}_RELAY_POLL_INTERVAL_S": "0.05",
            }
            if name == "survey":  # answer links must point at this survey process
                env["SURVEY_ANSWER_URL_BASE"] = "http://127.0.0.1:{port}/v1/public/surveys/"
            proc = ServiceProcess(name, env, logs)
            for k, v in list(proc.env.items()):
                proc.env[k] = v.replace("{port}", str(proc.port))
            proc.launch()
            started[name] = proc
            procs.append(proc)
        for proc in procs:
            proc.wait_ready()
        return started

    yield start
    stop_all(list(started.values()))


ALL_SERVICES = ("intake", "dispatch", "billing", "survey", "notify")


@pytest.fixture(scope="session")
def fixflow(start_services: Callable[..., dict[str, ServiceProcess]]) -> dict[str, ServiceProcess]:
    """All five services running as processes: fixflow["intake"].url, ..."""
    return start_services(*ALL_SERVICES)


# Scenario modules import their helpers from this folder (importlib mode does not add it).
import sys as _sys  # noqa: E402

_sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def console(
    fixflow: dict[str, ServiceProcess],
    start_services: Callable[..., dict[str, ServiceProcess]],
    service_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The staff web application as a process in front of the five services and insight (the
    manager dashboard's KPIs). Times in UTC and the board showing whole days, so a visit placed at
    any hour is on the board the test looks at."""
    behind = {**fixflow, **start_services("insight")}
    env = {
        **service_env,
        **{f"CONSOLE_{name.upper()}_URL": proc.url for name, proc in behind.items()},
        "CONSOLE_TIMEZONE": "UTC",
        "CONSOLE_BOARD_HOURS": "[0, 24]",
        "CONSOLE_DEFAULT_LOCALE": "en",
    }
    proc = ServiceProcess("console", env, Path(tmp_path_factory.mktemp("console-logs")))
    proc.start()
    yield proc
    proc.stop()


CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright's own browser download is not reachable here
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What scripts/time-of-day.sh sets to fake the clock of the tests and the services: Chromium under
# libfaketime's preload loads no page before the test's timeout, so the browser starts without it
# (on the machine's clock; what the journeys check is the portal's and the services' clock).
FAKETIME_ENV = ("LD_PRELOAD", "FAKETIME")


def browser_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Chromium starts with: this process's, without libfaketime."""
    env = dict(os.environ if environ is None else environ)
    return {k: v for k, v in env.items() if not k.startswith(FAKETIME_ENV)}


def _chromium() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API runs an event loop in this thread while
    it is open, so it starts after every fixture that runs one of its own (the services, the
    broker) and stops with its module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run deploy/local/infra.sh install (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=browser_env())
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser(console: ServiceProcess) -> Iterator[Any]:
    """Chromium for the console's journeys (after the console: see _chromium)."""
    yield from _chromium()


@pytest.fixture(scope="session")
def portal(
    fixflow: dict[str, ServiceProcess], service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """The customers' pages and the technician app as a process in front of the five services (times
    in UTC, English unless the browser asks otherwise)."""
    env = {
        **service_env,
        **{f"PORTAL_{name.upper()}_URL": proc.url for name, proc in fixflow.items()},
        "PORTAL_TIMEZONE": "UTC",
        "PORTAL_DEFAULT_LOCALE": "en",
        "PORTAL_ETA_REFRESH_S": "5",  # an open ticket page asks for the ETA every 5 s (20 s by default)
    }
    proc = ServiceProcess("portal", env, Path(tmp_path_factory.mktemp("portal-logs")))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def phone_browser(portal: ServiceProcess) -> Iterator[Any]:
    """Chromium for the portal's journeys (phone-sized contexts are made by the test)."""
    yield from _chromium()
