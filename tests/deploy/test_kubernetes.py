"""The Kubernetes manifests against the Kubernetes schemas (kubernetes-validate ships them) and the hardening every
pod must have; no cluster is needed (none is on the development machines)."""

import functools
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from jobbro.infra import REPO
from services.portal.settings import PortalSettings

K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
SERVICES = ("subsidy", "benefits", "activation", "notify")
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEYS?|TOKEN)$")


@functools.cache
def _documents() -> list[tuple[Path, dict[str, Any]]]:
    """Parsed once: the tests only read them."""
    return [(path, doc) for path in sorted(K8S.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def _of(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in _documents() if doc["kind"] == kind}


def _pods() -> Iterator[tuple[str, dict[str, Any]]]:
    """Each workload's name and pod spec: Deployments, StatefulSets and Jobs."""
    for _, doc in _documents():
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def _containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for name, pod in _pods():
        for container in pod.get("initContainers", []) + pod["containers"]:
            yield name, pod, container


def _env(workload: str) -> dict[str, dict[str, Any]]:
    [container] = [container for name, _, container in _containers() if name == workload]
    return {var["name"]: var for var in container["env"]}


@pytest.mark.parametrize(
    "document", [doc for _, doc in _documents()], ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}"
)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = _of("Namespace")["jobbro"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("workload", [name for name, _ in _pods()])
def test_every_pod_runs_as_a_non_root_user_with_the_runtimes_seccomp_profile_and_no_api_token(workload: str) -> None:
    pod = dict(_pods())[workload]
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] > 0 and context["runAsGroup"] > 0
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("workload", [name for name, _ in _pods()])
def test_every_container_has_a_read_only_root_no_privilege_escalation_no_capability_and_an_empty_tmp(
    workload: str,
) -> None:
    for name, pod, container in _containers():
        if name != workload:
            continue
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]} and not context.get("privileged")
        assert context.get("runAsUser", pod["securityContext"]["runAsUser"]) > 0
        [tmp] = [mount["name"] for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
        assert {"name": tmp, "emptyDir": {}} in pod["volumes"]


@pytest.mark.parametrize("workload", [name for name, _ in _pods()])
def test_every_container_requests_and_is_limited_in_cpu_and_memory(workload: str) -> None:
    for name, _, container in _containers():
        if name == workload:
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_every_long_running_container_has_startup_readiness_and_liveness_probes() -> None:
    workloads = {**_of("Deployment"), **_of("StatefulSet")}
    assert set(SERVICES) | {"backoffice", "portal", "keycloak", "postgres", "kafka"} <= set(workloads)
    for name, workload in workloads.items():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            probes = {probe: container[probe] for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
            assert all(probes.values()), name
            if "httpGet" in probes["readinessProbe"]:
                assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
                assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live", name


def test_every_replicated_deployment_keeps_a_pod_through_voluntary_disruptions() -> None:
    budgets = list(_of("PodDisruptionBudget").values())
    for name, deployment in _of("Deployment").items():
        replicas = deployment["spec"]["replicas"]
        assert replicas >= 2, f"{name}: one replica has no pod to spare"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        [budget] = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert 1 <= budget["spec"]["minAvailable"] < replicas, name


def test_every_image_is_a_fixed_version_and_none_is_a_development_build() -> None:
    for name, _, container in _containers():
        image = container["image"]
        tag = image.split("@")[0].rpartition(":")[2]
        # PostgreSQL's exact versions have two parts (15.14), every other's three
        exact = r"\d+\.\d+" if image.startswith("postgres:") else r"v?\d+\.\d+\.\d+"
        assert "@sha256:" in image or re.fullmatch(exact + r"(-[a-z0-9.-]+)?", tag), f"{name}: {image}"
        assert not image.startswith("jobbro:"), f"{name}: a local development image"


def test_no_password_key_or_secret_is_a_plain_value_and_every_reference_is_to_a_secret_that_has_it() -> None:
    secrets = {name: set(secret["stringData"]) for name, secret in _of("Secret").items()}
    for name, _, container in _containers():
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if _SECRET_NAME.search(var["name"]):
                assert ref and "value" not in var, f"{name}: {var['name']} is not from a Secret"
            if ref:
                assert ref["key"] in secrets[ref["name"]], f"{name}: {var['name']} names a key no Secret holds"


def test_the_portal_runs_in_production_with_settings_it_understands_and_its_secret_from_a_secret() -> None:
    env = _env("portal")
    prefix = PortalSettings.model_config["env_prefix"]
    fields = {prefix + field.upper() for field in PortalSettings.model_fields}
    assert set(env) - fields == {"JOBBRO_ENVIRONMENT"} and env["JOBBRO_ENVIRONMENT"]["value"] == "production"
    assert env["PORTAL_PUBLIC_URL"]["value"].startswith("https://")
    secret = env["PORTAL_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "jobbro-portal", "key": "client-secret"}
    [container] = _of("Deployment")["portal"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "services.portal"]
    assert container["ports"] == [{"containerPort": int(env["PORTAL_HTTP_PORT"]["value"])}]


def test_keycloak_imports_the_production_realm_with_every_value_it_leaves_to_the_environment() -> None:
    realm_file = REPO / "deploy" / "keycloak" / "jobbro-realm.production.json"
    placeholders = set(re.findall(r"\$\{(JOBBRO_[A-Z_]+)\}", realm_file.read_text()))
    env = _env("keycloak")
    assert placeholders and placeholders <= set(env)
    assert env["JOBBRO_PORTAL_URL"]["value"] == _env("portal")["PORTAL_PUBLIC_URL"]["value"]
    pod = dict(_pods())["keycloak"]
    [realm_volume] = [v["name"] for v in pod["volumes"] if v.get("configMap", {}).get("name") == "keycloak-realm"]
    [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == realm_volume]
    assert mount["mountPath"] == "/opt/keycloak/data/import"
    issuer = env["KC_HOSTNAME"]["value"] + "/realms/" + json.loads(realm_file.read_text())["realm"]
    for workload in (*SERVICES, "portal"):
        [value] = [var["value"] for name, var in _env(workload).items() if name.endswith("_OIDC_ISSUER")]
        assert value == issuer, workload


# The network: who may open a connection to whom (both sides' policies must allow it).

ALLOWED = [
    *[(service, "postgres", 5432) for service in (*SERVICES, "backoffice", "keycloak")],
    *[(service, "kafka", 9092) for service in (*SERVICES, "backoffice", "provision-topics")],
    ("portal", "subsidy", 8000),
    ("portal", "activation", 8000),
    ("keycloak", "keycloak", 7800),
]
DENIED = [
    ("portal", "postgres", 5432),
    ("portal", "kafka", 9092),
    ("portal", "benefits", 8000),
    ("subsidy", "benefits", 8000),  # services talk only through Kafka
    ("notify", "subsidy", 8000),
    ("backoffice", "subsidy", 8000),
    ("kafka", "postgres", 5432),
    ("provision-topics", "postgres", 5432),
    ("subsidy", "kafka", 9093),  # the controller listener is the broker's own
]


def _selects(selector: dict[str, Any], app: str) -> bool:
    return selector.get("matchLabels", {}).items() <= {"app": app}.items()


def _opens(direction: str, policy_app: str, peer_app: str, port: int) -> bool:
    """Whether some policy of `policy_app` lets it send to (Egress) or receive from (Ingress) `peer_app` on `port`."""
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in _of("NetworkPolicy").values():
        spec = policy["spec"]
        if direction not in spec["policyTypes"] or not _selects(spec["podSelector"], policy_app):
            continue
        for rule in spec.get(key, []):
            in_namespace = [p for p in rule.get(peers, []) if "podSelector" in p and "namespaceSelector" not in p]
            ports = {entry["port"] for entry in rule.get("ports", [])}
            if any(_selects(peer["podSelector"], peer_app) for peer in in_namespace) and port in ports:
                return True
    return False


def _allowed(source: str, target: str, port: int) -> bool:
    return _opens("Egress", source, target, port) and _opens("Ingress", target, source, port)


def test_everything_is_denied_unless_a_policy_allows_it() -> None:
    deny = _of("NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    apps = {pod_labels["app"] for _, doc in _documents() if (pod_labels := _pod_labels(doc))}
    own = {policy["spec"]["podSelector"].get("matchLabels", {}).get("app") for policy in _of("NetworkPolicy").values()}
    assert apps <= own, f"no policy of their own: {apps - own}"


def _pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    if doc["kind"] not in {"Deployment", "StatefulSet", "Job"}:
        return {}
    return doc["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize(("source", "target", "port"), ALLOWED)
def test_the_network_lets_each_process_reach_what_it_needs(source: str, target: str, port: int) -> None:
    assert _allowed(source, target, port)


@pytest.mark.parametrize(("source", "target", "port"), DENIED)
def test_the_network_refuses_what_no_process_needs(source: str, target: str, port: int) -> None:
    assert not _allowed(source, target, port)


def test_only_the_ingress_controller_reaches_the_http_entrypoints_from_outside_the_namespace() -> None:
    outside = set()
    for name, policy in _of("NetworkPolicy").items():
        if name == "metrics":
            continue
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer or "ipBlock" in peer:
                    outside.add(policy["metadata"]["name"])
                    labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
                    assert labels == {"kubernetes.io/metadata.name": "ingress-nginx"}, policy["metadata"]["name"]
    assert outside == {*SERVICES, "portal", "keycloak"}


def test_only_the_monitoring_namespace_scrapes_metrics_and_only_on_the_http_port() -> None:
    spec = _of("NetworkPolicy")["metrics"]["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    [selector] = spec["podSelector"]["matchExpressions"]
    assert set(selector["values"]) == {*SERVICES, "backoffice"} and selector["operator"] == "In"
    [rule] = spec["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]


def test_kubectl_apply_of_the_manifests_never_overwrites_a_secret() -> None:
    """Secrets live in deploy/k8s/secrets/, which `kubectl apply -f deploy/k8s/` (not recursive) does not read."""
    applied = [doc for path in K8S.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert applied and not [doc for doc in applied if doc["kind"] == "Secret"]


def _run_create(tmp_path: Path, existing: set[str]) -> dict[str, dict[str, str]]:
    """deploy/k8s/secrets/create against a stand-in `kubectl` that knows `existing` and records what is created."""
    log = tmp_path / "created.jsonl"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "if args[2:4] == ['get', 'secret']:\n"
        f"    sys.exit(0 if args[4] in {sorted(existing)!r} else 1)\n"
        "assert args[2:5] == ['create', 'secret', 'generic'], args\n"
        "pairs = dict(arg.removeprefix('--from-literal=').split('=', 1) for arg in args[6:])\n"
        f"open({str(log)!r}, 'a').write(json.dumps({{'name': args[5], 'data': pairs}}) + '\\n')\n"
    )
    kubectl.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run([K8S / "secrets" / "create"], check=True, env=env, capture_output=True)
    lines = log.read_text().splitlines() if log.exists() else []
    return {entry["name"]: entry["data"] for entry in map(json.loads, lines)}


def test_the_secrets_script_creates_every_secret_and_key_the_workloads_read_with_random_values(tmp_path: Path) -> None:
    created = _run_create(tmp_path, existing=set())
    placeholders = {name: set(secret["stringData"]) for name, secret in _of("Secret").items()}
    assert {name: set(data) for name, data in created.items()} == placeholders
    values = [value for data in created.values() for value in data.values()]
    assert len(set(values)) == len(values) and not any(value.startswith("development-only-") for value in values)
    [(key_id, key)] = json.loads(created["jobbro-keys"]["cpr-keys"]).items()
    assert key_id and len(key) >= 32
    assert re.fullmatch(r"\d{4}-\d{2}:[\w-]{32,}", created["jobbro-keys"]["link-keys"])


def test_the_secrets_script_never_replaces_a_secret_that_exists(tmp_path: Path) -> None:
    created = _run_create(tmp_path, existing={"jobbro-keys", "jobbro-database"})
    assert "jobbro-keys" not in created and "jobbro-database" not in created and "jobbro-kafka" in created


@pytest.mark.parametrize("workload", [*SERVICES, "backoffice", "portal"])
def test_every_process_exports_traces_to_the_endpoint_the_tracing_configmap_names_if_there_is_one(
    workload: str,
) -> None:
    [variable] = [var for name, var in _env(workload).items() if name.endswith("_OTLP_TRACES_ENDPOINT")]
    assert variable["name"] == f"{workload.upper()}_OTLP_TRACES_ENDPOINT"
    reference = variable["valueFrom"]["configMapKeyRef"]
    assert reference == {"name": "jobbro-tracing", "key": "otlp-traces-endpoint", "optional": True}
    [egress] = _of("NetworkPolicy")["otlp-traces"]["spec"]["egress"]
    assert egress["ports"] == [{"port": 4318, "protocol": "TCP"}]
    [selects] = _of("NetworkPolicy")["otlp-traces"]["spec"]["podSelector"]["matchExpressions"]
    assert workload in selects["values"]
