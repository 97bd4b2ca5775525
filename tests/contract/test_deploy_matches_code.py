"""docker-compose.yml, the Dockerfile, the Kubernetes manifests and the local env file must stay
true to the code: service names, ports, environment variable names, the image's commands, and
migrations as their own step (a one-shot compose service, a Kubernetes Job), never at a container's
start. Docker cannot run on our CI machines, so this is how we know `docker compose up` would wire
things right."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from fixflow_shared.settings import FixflowSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")  # each with its own database
WEB_APPS = ("console", "portal")  # no database: sessions in Redis, data through the services' APIs
FIVE = ("intake", "dispatch", "billing", "survey", "notify")
WEB_APP_CALLS = {"console": (*FIVE, "insight"), "portal": FIVE}  # the APIs each web app calls
SERVICES = DOMAIN_SERVICES + WEB_APPS
PORTS = {  # docs/architecture.md
    "console": 8000,
    "intake": 8001,
    "dispatch": 8002,
    "billing": 8003,
    "survey": 8004,
    "notify": 8005,
    "portal": 8006,
    "insight": 8007,
}
INFRASTRUCTURE = {"kafka", "postgres", "redis", "jaeger", "otel-collector", "mail", "topics"}
# Read by the OpenTelemetry SDK itself, not by the services' settings.
OTEL_SDK_ENV = {"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"}
CLI = (ROOT / "shared/src/fixflow_shared/cli.py").read_text()


def settings_class(service: str) -> type[FixflowSettings]:
    module = importlib.import_module(f"{service}.config")
    return next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, FixflowSettings) and v not in (FixflowSettings, ServiceSettings)
    )


def env_names(service: str) -> tuple[set[str], set[str]]:
    """(every variable the service reads, the ones it requires)."""
    cls = settings_class(service)
    prefix = cls.model_config.get("env_prefix", "")
    names, required = set(), set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        env = (
            {c.upper() for c in alias.choices if isinstance(c, str)} if alias is not None else {(prefix + name).upper()}
        )
        names |= env
        if field.is_required():
            required |= env
    return names, required


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def image_commands(command: list[str]) -> None:
    """A command given to the image is one the service command line has (fixflow_shared/cli.py)."""
    assert len(command) == 1 and f'cmd == "{command[0]}"' in CLI, f"the image has no command {command}"


def test_every_service_directory_is_in_compose_and_vice_versa():
    on_disk = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    in_compose = {s for s in compose()["services"] if s not in INFRASTRUCTURE and not s.endswith("-migrate")}
    assert on_disk == in_compose == set(SERVICES)


def test_one_dockerfile_builds_every_service():
    assert not list(ROOT.glob("services/*/Dockerfile")), "one Dockerfile at the root, with --build-arg SERVICE"
    text = dockerfile()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?$", text, re.M)
    assert len(stages) >= 2 and "COPY --from=build " in text, (
        "multi-stage: build, then a runtime without pip's leftovers"
    )
    assert re.search(r"^ARG SERVICE$", text, re.M)
    # Every stage starts from the base pinned by digest (a tag alone can change under us).
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base.group(1)), base
    assert all(image == "${PYTHON_IMAGE}" for image, _ in stages)
    # The service is installed without extras (tests' and benchmarks' dependencies stay out).
    assert "-e ./shared -e ./services/${SERVICE} " in text
    # A user without rights runs it, the one the Kubernetes manifests expect.
    assert re.search(r"^USER 10001:10001$", text, re.M)
    # Commands: serve by default, health from the service itself, migrations never at start.
    assert re.search(r'^ENTRYPOINT \["fixflow-service"\]$', text, re.M)
    assert re.search(r'^CMD \["serve"\]$', text, re.M)
    assert re.search(r'^HEALTHCHECK .* CMD \["fixflow-service", "healthcheck"\]$', text, re.M)
    assert "ln -s /opt/venv/bin/fixflow-${SERVICE} /opt/venv/bin/fixflow-service" in text
    for command in ("serve", "healthcheck", "migrate", "await-migrations"):
        image_commands([command])


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_the_console_script_the_image_runs(service):
    project = tomllib.loads((ROOT / f"services/{service}/pyproject.toml").read_text())["project"]
    assert project["scripts"][f"fixflow-{service}"] == f"{service}.__main__:main"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service_matches_settings(service):
    spec = compose()["services"][service]
    names, required = env_names(service)
    env = {k: str(v) for k, v in spec["environment"].items()}
    unknown = set(env) - names
    assert not unknown, f"{service} does not read {unknown}"
    assert required <= set(env), f"{service} needs {required - set(env)}"
    port = PORTS[service]
    assert settings_class(service).model_fields["http_port"].default == port
    assert env[f"{service.upper()}_HTTP_PORT"] == str(port)
    assert env[f"{service.upper()}_HTTP_HOST"] == "0.0.0.0"
    assert spec["ports"] == [f"{port}:{port}"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert spec["build"] == {"context": ".", "args": {"SERVICE": service}}
    assert spec["command"] == ["serve"]
    image_commands(spec["command"])
    assert "healthcheck" not in spec, "the image's HEALTHCHECK asks the service itself"
    if service in WEB_APPS:
        # the services' APIs by their compose names, never the host's loopback; nothing to migrate
        for other in WEB_APP_CALLS[service]:
            assert env[f"{service.upper()}_{other.upper()}_URL"] == f"http://{other}:{PORTS[other]}"
        assert f"{service}-migrate" not in compose()["services"]
        return
    assert env[f"{service.upper()}_DATABASE_URL"].startswith(
        f"postgresql+asyncpg://{service}:{service}@postgres:5432/{service}"
    )


@pytest.mark.parametrize("service", DOMAIN_SERVICES)
def test_compose_migrates_each_database_once_before_its_service(service):
    services = compose()["services"]
    migrate = services[f"{service}-migrate"]
    assert migrate["build"] == services[service]["build"], "the same image as the service"
    assert migrate["command"] == ["migrate"]
    image_commands(migrate["command"])
    assert migrate.get("restart", "no") == "no" and "ports" not in migrate
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    names, required = env_names(service)
    env = {k: str(v) for k, v in migrate["environment"].items()}
    assert set(env) <= names and required <= set(env)
    url = f"{service.upper()}_DATABASE_URL"
    assert env[url] == str(services[service]["environment"][url]), "migrates the database the service uses"
    assert services[service]["depends_on"][f"{service}-migrate"] == {"condition": "service_completed_successfully"}


def test_compose_infrastructure_matches_local_scripts():
    c = compose()["services"]
    assert c["kafka"]["image"].startswith("apache/kafka:4.1")
    assert c["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    assert re.search(r"<kafka.version>4\.1\.\d+</kafka.version>", pom)
    assert c["kafka"]["image"].split(":")[1] in pom, "same Kafka version in compose and the local broker"
    init = (ROOT / "deploy/docker/postgres-init.sql").read_text()
    for s in DOMAIN_SERVICES:
        assert f"CREATE DATABASE {s} OWNER {s}" in init
    # Traces leave the services over OTLP to the collector, which sends them on to Jaeger.
    assert c["otel-collector"]["image"].startswith("otel/opentelemetry-collector:")
    collector = yaml.safe_load((ROOT / "deploy/docker/otel-collector.yaml").read_text())
    assert collector["exporters"]["otlp"]["endpoint"] == "jaeger:4317"
    assert "16686:16686" in c["jaeger"]["ports"]


def kubernetes(service: str) -> dict[str, dict]:
    docs = yaml.safe_load_all((ROOT / f"deploy/kustomize/base/{service}.yaml").read_text())
    return {d["kind"]: d for d in docs}


def check_env(service: str, container: dict) -> None:
    names, required = env_names(service)
    config = yaml.safe_load((ROOT / "deploy/kustomize/base/config.yaml").read_text())["data"]
    env = {e["name"] for e in container["env"]} | set(config)
    assert not (env - names - OTEL_SDK_ENV), f"{service} does not read {env - names - OTEL_SDK_ENV}"
    assert required <= env


def check_runs_unprivileged(pod: dict) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001, "the Dockerfile's USER"
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_deployment_matches_settings(service):
    deployment = kubernetes(service)["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == f"fixflow/{service}"
    assert container["args"] == ["serve"] and "command" not in container
    image_commands(container["args"])
    assert container["ports"][0]["containerPort"] == PORTS[service]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    check_env(service, container)
    check_runs_unprivileged(pod)
    kustomization = yaml.safe_load((ROOT / "deploy/kustomize/base/kustomization.yaml").read_text())
    assert f"{service}.yaml" in kustomization["resources"]
    if service in WEB_APPS:
        values = {e["name"]: e.get("value") for e in container["env"]}
        for other in WEB_APP_CALLS[service]:
            assert values[f"{service.upper()}_{other.upper()}_URL"] == f"http://{other}:{PORTS[other]}"
        assert "initContainers" not in pod and "Job" not in kubernetes(service), "no database, nothing to wait for"


@pytest.mark.parametrize("service", DOMAIN_SERVICES)
def test_kubernetes_migrates_in_a_job_and_pods_only_wait_for_it(service):
    manifests = kubernetes(service)
    job = manifests["Job"]
    assert job["metadata"]["name"] == f"{service}-migrate"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("OnFailure", "Never")
    [migrate] = pod["containers"]
    assert migrate["image"] == f"fixflow/{service}" and migrate["args"] == ["migrate"]
    image_commands(migrate["args"])
    check_env(service, migrate)
    check_runs_unprivileged(pod)
    # The Service must not route requests to the Job's pod.
    selector = manifests["Service"]["spec"]["selector"]
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= job_labels.items()
    # No pod of the Deployment migrates; each waits until the database is at its code's head.
    deployment_pod = manifests["Deployment"]["spec"]["template"]["spec"]
    [wait] = deployment_pod["initContainers"]
    assert wait["args"] == ["await-migrations"] and wait["image"] == f"fixflow/{service}"
    image_commands(wait["args"])
    check_env(service, wait)
    assert all("migrate" not in c.get("args", []) for c in deployment_pod["containers"])


def test_local_env_file_names_only_known_variables():
    names = set().union(*(env_names(s)[0] for s in SERVICES))
    local = [
        line.split("=", 1)[0]
        for line in (ROOT / "deploy/local/fixflow.env").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert set(local) <= names, set(local) - names
    for s in SERVICES:
        assert env_names(s)[1] <= set(local)


def test_topics_in_kubernetes_match_the_code():
    from fixflow_shared.topics import ALL_TOPICS

    docs = list(yaml.safe_load_all((ROOT / "deploy/kustomize/base/topics.yaml").read_text()))
    declared = {d["spec"]["topicName"]: d["spec"] for d in docs}
    assert set(declared) == {t.name for t in ALL_TOPICS}
    for t in ALL_TOPICS:
        assert declared[t.name]["partitions"] == t.partitions
        assert declared[t.name]["replicas"] == 3 and declared[t.name]["config"]["min.insync.replicas"] == "2"
        # Domain topics keep their history for insight's rebuilds (docs/adr/0011-topic-retention-for-replays.md).
        assert declared[t.name]["config"]["retention.ms"] == str(t.retention_ms)


def test_console_is_started_by_make_run_and_its_url_printed():
    script = (ROOT / "scripts/services.sh").read_text()
    assert "[console]=8000" in script and "http://127.0.0.1:8000" in script


def test_the_console_image_answers_every_command_the_image_is_given():
    from console.__main__ import main

    for command in ("migrate", "await-migrations"):
        main([command])  # nothing to migrate or wait for: succeeds at once


SECRET_VARIABLES = {
    "FIXFLOW_JWT_DEV_SECRET",
    "SURVEY_ANSWER_TOKEN_SECRETS",
    "FIXFLOW_PARTNER_API_KEYS",
    "NOTIFY_SMS_PRIMARY_TOKEN",
    "NOTIFY_SMS_FAILOVER_TOKEN",
    "FIXFLOW_PORTAL_LINK_SECRETS",
    "PORTAL_TOKEN_SIGNING_KEY",
}


def test_secrets_are_referenced_never_written_down():
    """Compose reads the checkout's generated secrets file; Kubernetes reads Secrets; no file in
    the repo holds a secret's value, and production's required secrets are all wired."""
    for service in SERVICES:
        spec = compose()["services"][service]
        assert not SECRET_VARIABLES & set(spec["environment"]), service
        assert ".local/secrets.env" in spec["env_file"], service
    config = yaml.safe_load((ROOT / "deploy/kustomize/base/config.yaml").read_text())["data"]
    assert not SECRET_VARIABLES & set(config)
    for service in SERVICES:
        docs = list(yaml.safe_load_all((ROOT / f"deploy/kustomize/base/{service}.yaml").read_text()))
        container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        for name in SECRET_VARIABLES & set(env):
            assert "secretKeyRef" in env[name].get("valueFrom", {}), f"{service}: {name} must come from a Secret"
        cls = settings_class(service)
        needed = {cls._env_name(f) for f in cls.production_secrets} - set(config)
        assert needed <= set(env), f"{service} needs {needed - set(env)} in production"
    local = (ROOT / "deploy/local/fixflow.env").read_text()
    assert not any(f"{name}=" in local for name in SECRET_VARIABLES)
