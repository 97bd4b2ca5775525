"""docker-compose.yml, the Dockerfiles, the Kubernetes manifests and the local env file must stay
true to the code: service names, ports, environment variable names, health checks. Docker cannot
run on our CI machines, so this is how we know `docker compose up` would wire things right."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from fixflow_shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "billing", "survey", "notify")
PORTS = {"intake": 8001, "dispatch": 8002, "billing": 8003, "survey": 8004, "notify": 8005}  # DESIGN.md


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{service}.config")
    return next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
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


def test_every_service_directory_is_in_compose_and_vice_versa():
    on_disk = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    in_compose = set(compose()["services"]) - {"kafka", "postgres", "redis", "jaeger", "mail"}
    assert on_disk == in_compose == set(SERVICES)


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
    assert spec["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/healthz" in " ".join(spec["healthcheck"]["test"])
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env[f"{service.upper()}_DATABASE_URL"].startswith(
        f"postgresql+asyncpg://{service}:{service}@postgres:5432/{service}"
    )
    dockerfile = ROOT / spec["build"]["dockerfile"]
    assert dockerfile.exists()
    text = dockerfile.read_text()
    assert f"{service.upper()}_HTTP_PORT={port}" in text and f"EXPOSE {port}" in text
    assert f"python -m {service} migrate" in text and f"python -m {service} serve" in text


def test_compose_infrastructure_matches_local_scripts():
    c = compose()["services"]
    assert c["kafka"]["image"].startswith("apache/kafka:4.1")
    assert c["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    assert re.search(r"<kafka.version>4\.1\.\d+</kafka.version>", pom)
    assert c["kafka"]["image"].split(":")[1] in pom, "same Kafka version in compose and the local broker"
    init = (ROOT / "deploy/docker/postgres-init.sql").read_text()
    for s in SERVICES:
        assert f"CREATE DATABASE {s} OWNER {s}" in init
    assert "4318:4318" in c["jaeger"]["ports"]


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_deployment_matches_settings(service):
    docs = list(yaml.safe_load_all((ROOT / f"deploy/kustomize/base/{service}.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == PORTS[service]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    names, required = env_names(service)
    config = yaml.safe_load((ROOT / "deploy/kustomize/base/config.yaml").read_text())["data"]
    env = {e["name"] for e in container["env"]} | set(config)
    assert not (env - names), f"{service} does not read {env - names}"
    assert required <= env
    kustomization = yaml.safe_load((ROOT / "deploy/kustomize/base/kustomization.yaml").read_text())
    assert f"{service}.yaml" in kustomization["resources"]


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
