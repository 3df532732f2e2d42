"""The compose file and Kubernetes manifests cannot run here (no Docker engine, no cluster): check their content."""

import importlib
import importlib.util
import json
import re
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from jobbro.infra import REPO
from jobbro.settings import DEVELOPMENT_PREFIX, secret_fields

DEPLOY = REPO / "deploy"
SETTINGS = {
    "subsidy": "services.subsidy.settings:SubsidySettings",
    "benefits": "services.benefits.settings:BenefitsSettings",
    "activation": "services.activation.settings:ActivationSettings",
    "notify": "services.notify.settings:NotifySettings",
    "backoffice": "demo.backoffice:BackofficeSettings",
}


KIT_VARIABLES = {"JOBBRO_ENVIRONMENT", "JOBBRO_SECRETS_DIR"}
"""Read by the kit for every service (jobbro/settings.py), not through a service's prefix."""
_DSN_PASSWORD = re.compile(r"://[^/@:]+:[^/@]+@")


def _secret_variables(name: str) -> set[str]:
    """The variables of the service's secrets: every SecretStr field (the database password among them)."""
    settings = _settings(name)
    return {settings.model_config["env_prefix"] + field.upper() for field in secret_fields(settings)}


def _settings(name: str) -> type[BaseSettings]:
    module, cls = SETTINGS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def _check_env(name: str, env: dict[str, Any]) -> None:
    """Every variable is a field of the service's settings class (or one the kit reads for every service), and
    every field without a default is set."""
    settings = _settings(name)
    prefix = settings.model_config["env_prefix"]
    fields = {prefix + field.upper(): info for field, info in settings.model_fields.items()}
    unknown = set(env) - set(fields) - KIT_VARIABLES
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
    files = sorted((DEPLOY / "k8s").rglob("*.yaml"))
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


@pytest.mark.parametrize("name", SETTINGS)
def test_compose_runs_each_service_in_production_with_every_secret_from_a_docker_secret(name: str) -> None:
    service = _compose()[name]
    env = service["environment"]
    assert env["JOBBRO_ENVIRONMENT"] == "production" and env["JOBBRO_SECRETS_DIR"] == "/run/secrets"
    mounted = {secret["target"] for secret in service["secrets"]}
    assert _secret_variables(name) <= mounted, f"{name}: secrets not given: {_secret_variables(name) - mounted}"
    assert not _secret_variables(name) & set(env), f"{name}: a secret is inline"
    assert not any(_DSN_PASSWORD.search(str(value)) for value in env.values()), f"{name}: a password in a DSN"


def test_compose_secrets_are_files_kept_out_of_the_repository() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    postgres = compose["services"]["postgres"]["environment"]
    assert "POSTGRES_PASSWORD" not in postgres and postgres["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (DEPLOY / "compose" / "secrets" / ".gitignore").read_text().splitlines()
    assert "*" in ignored and not any(
        (DEPLOY / "compose" / secret["file"]).exists() for secret in compose["secrets"].values()
    )


@pytest.mark.parametrize("name", SETTINGS)
def test_kubernetes_runs_each_service_in_production_with_every_secret_from_a_secret_object(name: str) -> None:
    [deployment] = [d for d in _k8s() if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {var["name"]: var for var in container["env"]}
    assert env["JOBBRO_ENVIRONMENT"]["value"] == "production"
    secrets = {d["metadata"]["name"]: d["stringData"] for d in _k8s() if d["kind"] == "Secret"}
    for variable in _secret_variables(name):
        assert variable in env, f"{name}: {variable} is not set"
        ref = env[variable].get("valueFrom", {}).get("secretKeyRef")
        assert ref and "value" not in env[variable], f"{name}: {variable} does not come from a Secret"
        assert ref["key"] in secrets[ref["name"]], f"{name}: {variable} names a key no Secret holds"
    assert not any(_DSN_PASSWORD.search(str(var.get("value", ""))) for var in env.values())


def test_kubernetes_secret_placeholders_are_refused_by_a_service_in_production() -> None:
    """Applying the committed Secrets unchanged must not run: every placeholder is a development value."""
    for secret in (d for d in _k8s() if d["kind"] == "Secret"):
        for key, value in secret["stringData"].items():
            values = json.loads(value).values() if value.startswith("{") else [value]
            assert all(v.startswith(DEVELOPMENT_PREFIX) for v in values), f"{secret['metadata']['name']}/{key}"
    [postgres] = [d for d in _k8s() if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "postgres"]
    [container] = postgres["spec"]["template"]["spec"]["containers"]
    [password] = [var for var in container["env"] if var["name"] == "POSTGRES_PASSWORD"]
    assert password["valueFrom"]["secretKeyRef"] == {"name": "jobbro-database", "key": "password"}


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
    assert prefix + "SASL_PASSWORD" not in compose  # a Docker secret, never a value in the file
    assert {"source": f"kafka-{PRINCIPALS[name]}", "target": prefix + "SASL_PASSWORD"} in _compose()[name]["secrets"]
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
