"""Every rendered Kubernetes manifest and the compose file, validated offline, and the rules a
platform team relies on checked on what `kubectl apply -k` would receive.

- Each overlay (dev, production) is rendered with kustomize (kubectl's own, or the one
  deploy/local/infra.sh builds); Kubernetes' kinds are validated against the schemas the pinned
  kubernetes-validate package bundles (strict: unknown fields fail), the operators' kinds against
  tests/contract/schemas (see its README for where each schema comes from).
- Containers: non-root, read-only root filesystem, no privilege escalation, every capability
  dropped; images pinned; Secrets referenced, never written.
- Each service: a migrate Job, probes (startup, /readyz, /healthz), a PodDisruptionBudget, a KEDA
  ScaledObject on its consumer group's lag bounded by partitions, a CloudNativePG database.
- The platform: a KRaft Kafka of three brokers in a KafkaNodePool, Redis, an OpenTelemetry
  collector, NetworkPolicies that let only the console and the portal be reached from outside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"
OVERLAYS = ("dev", "production")
SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")  # each with its database and group
PUBLIC = {"console", "portal"}  # the only pods reachable from outside the namespace
KUBERNETES_VERSION = "1.31"
CRD_SCHEMAS = {
    ("kafka.strimzi.io/v1beta2", "Kafka"): "strimzi-kafka.json",
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): "strimzi-kafkanodepool.json",
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "strimzi-kafkatopic.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster.json",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "cnpg-scheduledbackup.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.json",
}
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def kustomize_command() -> list[str]:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    for candidate in (shutil.which("kustomize"), str(ROOT / ".local/bin/kustomize")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate, "build"]
    pytest.fail("no kustomize: run deploy/local/infra.sh install (make test does)")


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(
        [*kustomize_command(), str(ROOT / "deploy/kustomize/overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"]) for d in docs if d["kind"] in WORKLOADS
    ]


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_is_valid_against_its_schema(overlay):
    docs = rendered(overlay)
    assert len(docs) > 40
    errors = []
    for d in docs:
        key = (d["apiVersion"], d["kind"])
        where = f"{d['kind']}/{d['metadata']['name']}"
        try:
            if key in CRD_SCHEMAS:
                schema = json.loads((SCHEMAS / CRD_SCHEMAS[key]).read_text())
                jsonschema.validate(d, schema, cls=jsonschema.Draft202012Validator)
            else:
                kubernetes_validate.validate(d, KUBERNETES_VERSION, strict=True)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as e:
            errors.append(f"{where}: {e.message} at {list(e.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{where}: no schema for {key}: add one to tests/contract/schemas")
    assert not errors, "\n".join(errors)


def test_the_crd_schemas_catch_mistakes():
    """A schema that accepts anything proves nothing: a misspelt field and a wrong type fail."""
    docs = rendered("production")
    pool = dict(of_kind(docs, "KafkaNodePool")["brokers"])
    bad_pool = {**pool, "spec": {**pool["spec"], "replica": 3}}
    scaled = of_kind(docs, "ScaledObject")["intake"]
    bad_scaled = json.loads(json.dumps(scaled))
    del bad_scaled["spec"]["triggers"][0]["metadata"]["consumerGroup"]
    cluster = json.loads(json.dumps(of_kind(docs, "Cluster")["intake-db"]))
    cluster["spec"]["instances"] = "three"
    for doc, schema in (
        (bad_pool, "strimzi-kafkanodepool.json"),
        (bad_scaled, "keda-scaledobject.json"),
        (cluster, "cnpg-cluster.json"),
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, json.loads((SCHEMAS / schema).read_text()), cls=jsonschema.Draft202012Validator)
    bad_job = json.loads(json.dumps(of_kind(docs, "Job")["intake-migrate"]))
    bad_job["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad_job, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_run_locked_down(overlay):
    problems = []
    for where, pod in pod_specs(rendered(overlay)):
        pod_ctx = pod.get("securityContext", {})
        for c in containers(pod):
            ctx = c.get("securityContext", {})
            name = f"{where}/{c['name']}"
            if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
                problems.append(f"{name}: may run as root")
            if ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: writable root filesystem")
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: privilege escalation allowed")
            if "ALL" not in ctx.get("capabilities", {}).get("drop", []):
                problems.append(f"{name}: capabilities not all dropped")
    # The operators' pods: Strimzi's containers get the same through the Kafka resource's templates.
    kafka = next(iter(of_kind(rendered(overlay), "Kafka").values()))
    kafka_ctx = kafka["spec"]["kafka"]["template"]["kafkaContainer"]["securityContext"]
    assert kafka_ctx == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned_and_secrets_only_referenced(overlay):
    docs = rendered(overlay)
    for where, pod in pod_specs(docs):
        for c in containers(pod):
            image = c["image"]
            assert "@sha256:" in image or re.search(r":[\w][\w.-]*$", image), f"{where}: {image} has no tag"
            assert not image.endswith(":latest"), f"{where}: {image}"
            for e in c.get("env", []):
                value = str(e.get("value", ""))
                assert not re.search(r"(?i)(password|secret|token|key)", e["name"]) or "valueFrom" in e, (
                    where,
                    e["name"],
                )
                assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", value), f"{where}: a credential in {e['name']}"
    for c in of_kind(docs, "Cluster").values():
        assert re.search(r":\d+\.\d+$", c["spec"]["imageName"]), c["spec"]["imageName"]
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are created by the platform, never written here"
    config = of_kind(docs, "ConfigMap")["fixflow-config"]["data"]
    assert not any(re.search(r"(?i)password|secret", k) for k in config)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_is_deployed_whole(overlay):
    docs = rendered(overlay)
    deployments, jobs, pdbs = of_kind(docs, "Deployment"), of_kind(docs, "Job"), of_kind(docs, "PodDisruptionBudget")
    scaled, clusters = of_kind(docs, "ScaledObject"), of_kind(docs, "Cluster")
    from fixflow_shared.topics import ALL_TOPICS

    min_partitions = min(t.partitions for t in ALL_TOPICS if not t.name.endswith(".dlq"))
    for s in SERVICES:
        d = deployments[s]
        pod = d["spec"]["template"]["spec"]
        [c] = pod["containers"]
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz", s
        assert (
            c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        )
        assert jobs[f"{s}-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(p["spec"]["selector"]["matchLabels"].items() <= labels.items() for p in pdbs.values()), (
            f"{s}: no PDB"
        )
        so = scaled[s]["spec"]
        assert so["scaleTargetRef"]["name"] == s
        [lag] = [t for t in so["triggers"] if t["type"] == "kafka"]
        assert lag["metadata"]["consumerGroup"] == s
        assert so["maxReplicaCount"] <= min_partitions, f"{s}: more replicas than partitions would idle"
        members = {e["name"]: e.get("value") for e in c["env"]}.get(f"{s.upper()}_CONSUMER_MEMBERS")
        assert members == "1", f"{s}: one group member per pod, so replicas bound by partitions means members too"
        db = {e["name"]: e for e in c["env"]}[f"{s.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert db == {"name": f"{s}-db-app", "key": "uri"}, "the secret CloudNativePG generates"
        assert clusters[f"{s}-db"]["spec"]["bootstrap"]["initdb"] == {"database": s, "owner": s}
        assert "prometheus.io/scrape" in d["spec"]["template"]["metadata"]["annotations"]
    # No HorizontalPodAutoscaler of our own: KEDA makes them from the ScaledObjects.
    assert not of_kind(docs, "HorizontalPodAutoscaler")


def test_production_databases_are_replicated_and_backed_up():
    docs = rendered("production")
    scheduled = {b["spec"]["cluster"]["name"] for b in of_kind(docs, "ScheduledBackup").values()}
    for s in SERVICES:
        spec = of_kind(docs, "Cluster")[f"{s}-db"]["spec"]
        assert spec["instances"] == 3 and spec["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
        assert f"{s}-db" in scheduled
    assert all(c["spec"]["instances"] == 1 for c in of_kind(rendered("dev"), "Cluster").values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_is_kraft_with_three_brokers_and_topics_come_from_resources(overlay):
    docs = rendered(overlay)
    [pool] = of_kind(docs, "KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    [kafka] = of_kind(docs, "Kafka").values()
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    assert "zookeeper" not in kafka["spec"]
    from fixflow_shared.topics import ALL_TOPICS

    declared = {t["spec"]["topicName"]: t for t in of_kind(docs, "KafkaTopic").values()}
    assert set(declared) == {t.name for t in ALL_TOPICS}
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for t in declared.values())
    config = of_kind(docs, "ConfigMap")["fixflow-config"]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == f"{kafka['metadata']['name']}-kafka-bootstrap:9092"


def test_services_never_create_topics_at_start():
    """One source of truth: KafkaTopic resources in Kubernetes, `fixflow_shared.topics create`
    elsewhere (infra.sh topics, compose's one-shot `topics`), never a service starting."""
    runtime = (ROOT / "shared/src/fixflow_shared/runtime.py").read_text()
    assert "ensure_topics" not in runtime
    assert "$(INFRA) topics" in (ROOT / "Makefile").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["topics"]["command"] == ["topics"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_console_and_the_portal_are_reachable_from_outside(overlay):
    docs = rendered(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    for name, p in policies.items():
        for rule in p["spec"].get("ingress", []):
            open_to_all = "from" not in rule or any(
                peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" or peer.get("namespaceSelector") == {}
                for peer in rule.get("from", [])
            )
            if open_to_all:
                assert p["spec"]["podSelector"] == {"matchLabels": {"fixflow.dev/exposure": "public"}}, name
    exposed = {
        name
        for name, d in {**of_kind(docs, "Deployment"), **of_kind(docs, "StatefulSet")}.items()
        if d["spec"]["template"]["metadata"]["labels"].get("fixflow.dev/exposure") == "public"
    }
    assert exposed <= PUBLIC, f"reachable from outside: {exposed - PUBLIC}"
    assert "console" in exposed, "the staff console is the entry point"
    assert not [s for s in of_kind(docs, "Service").values() if s["spec"].get("type") in ("LoadBalancer", "NodePort")]
    # Redis and the collector: a Deployment/StatefulSet and a Service each, reachable by Fixflow's pods.
    assert "redis" in of_kind(docs, "StatefulSet") and "otel-collector" in of_kind(docs, "Deployment")
    for workload in ("redis", "otel-collector"):
        assert policies[workload]["spec"]["ingress"][0]["from"] == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "fixflow"}}}
        ]


def test_the_compose_file_is_valid_compose():
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    schema["properties"]["name"] = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}  # see schemas/README.md
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(compose, schema, cls=jsonschema.Draft201909Validator)
    broken = json.loads(json.dumps(compose))
    broken["services"]["intake"]["depends_on"]["topics"] = {"condition": "service_finished"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft201909Validator)
