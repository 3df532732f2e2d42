"""The compose file and Kubernetes manifests cannot run here (no Docker engine, no cluster): check their content."""

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from jobbro.infra import REPO

DEPLOY = REPO / "deploy"
SETTINGS = {
    "subsidy": "services.subsidy.settings:SubsidySettings",
    "benefits": "services.benefits.settings:BenefitsSettings",
    "activation": "services.activation.settings:ActivationSettings",
    "notify": "services.notify.settings:NotifySettings",
    "backoffice": "demo.backoffice:BackofficeSettings",
}


def _settings(name: str) -> type[BaseSettings]:
    module, cls = SETTINGS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def _check_env(name: str, env: dict[str, Any]) -> None:
    """Every variable is a field of the service's settings class, and every field without a default is set."""
    settings = _settings(name)
    prefix = settings.model_config["env_prefix"]
    fields = {prefix + field.upper(): info for field, info in settings.model_fields.items()}
    unknown = set(env) - set(fields)
    assert not unknown, f"{name}: {sorted(unknown)} match no field of {settings.__name__}"
    missing = {var for var, info in fields.items() if info.is_required()} - set(env)
    assert not missing, f"{name}: required settings {sorted(missing)} are not set"


def _command_module(command: list[str]) -> str:
    assert command[:2] == ["python", "-m"], command
    assert importlib.util.find_spec(command[2]) is not None, f"{command[2]} is not a module"
    return command[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]


def _k8s() -> list[dict[str, Any]]:
    files = sorted((DEPLOY / "k8s").glob("*.yaml"))
    return [doc for path in files for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.mark.parametrize("name", SETTINGS)
def test_compose_runs_each_service_with_settings_it_understands_and_a_readiness_check(name: str) -> None:
    service = _compose()[name]
    assert _command_module(service["command"]).endswith(name)
    _check_env(name, service["environment"])
    assert "/health/ready" in " ".join(service["healthcheck"]["test"])
    assert service["depends_on"]["provision"]["condition"] == "service_completed_successfully"


def test_compose_provisions_the_topics_before_the_services_start() -> None:
    assert _command_module(_compose()["provision"]["command"]) == "contracts.provision"


@pytest.mark.parametrize("name", SETTINGS)
def test_kubernetes_runs_each_service_with_settings_it_understands_and_probes(name: str) -> None:
    [deployment] = [d for d in _k8s() if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert _command_module(container["command"]).endswith(name)
    _check_env(name, {var["name"]: var for var in container["env"]})
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert any(d["kind"] == "Service" and d["metadata"]["name"] == name for d in _k8s())


def test_kubernetes_provisions_the_topics_with_a_job() -> None:
    [job] = [d for d in _k8s() if d["kind"] == "Job"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert _command_module(container["command"]) == "contracts.provision"


def test_the_image_copies_every_package_the_services_import() -> None:
    copied = {line.split()[1] for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("COPY")}
    for package in ("jobbro", "contracts", "services", "demo", "rules"):
        assert package in copied and (REPO / package).is_dir()
    assert Path(REPO / "pyproject.toml").exists()


PRINCIPALS = {name: "payment-back-office" if name == "backoffice" else name for name in SETTINGS}


@pytest.mark.parametrize("name", SETTINGS)
def test_each_process_connects_to_kafka_over_sasl_ssl_as_its_own_principal(name: str) -> None:
    prefix = name.upper() + "_KAFKA_"
    compose = _compose()[name]["environment"]
    [deployment] = [d for d in _k8s() if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    k8s = {var["name"]: var for var in container["env"]}
    assert compose[prefix + "SECURITY_PROTOCOL"] == k8s[prefix + "SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert compose[prefix + "SASL_USERNAME"] == k8s[prefix + "SASL_USERNAME"]["value"] == PRINCIPALS[name]
    assert compose[prefix + "SASL_PASSWORD"].startswith("${")  # from the operator, never a value in the file
    assert k8s[prefix + "SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "jobbro-kafka",
        "key": PRINCIPALS[name],
    }
    assert compose[prefix + "CA_FILE"] and k8s[prefix + "CA_FILE"]["value"]


def test_the_brokers_run_sasl_ssl_with_the_authorizer() -> None:
    script = (DEPLOY / "kafka" / "broker.sh").read_text()
    for setting in (
        "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
    ):
        assert setting in script
    assert _compose()["kafka"]["command"] == ["bash", "/opt/jobbro/broker.sh"]
    [kafka] = [d for d in _k8s() if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "kafka"]
    assert kafka["spec"]["template"]["spec"]["containers"][0]["command"] == ["bash", "/opt/jobbro/broker.sh"]
