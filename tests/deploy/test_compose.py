"""The compose file hardened as far as compose can (no Docker engine here: its content is checked)."""

import re
from typing import Any

import pytest
import yaml

from jobbro.infra import REPO
from services.portal.settings import PortalSettings

COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "deploy" / "compose" / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ROOT_BECAUSE = {"kafka": {"DAC_OVERRIDE"}}
"""The one container left as root (to write certificates into a fresh volume), and the capabilities it keeps."""


@pytest.mark.parametrize("name", SERVICES)
def test_every_container_has_a_read_only_root_no_capability_no_new_privileges_and_a_tmpfs(name: str) -> None:
    service = SERVICES[name]
    assert service["read_only"] is True and "/tmp" in service["tmpfs"]
    assert service["cap_drop"] == ["ALL"] and set(service.get("cap_add", [])) == ROOT_BECAUSE.get(name, set())
    assert service["security_opt"] == ["no-new-privileges:true"]
    assert not service.get("privileged")


@pytest.mark.parametrize("name", SERVICES)
def test_every_container_runs_as_a_numeric_non_root_user_but_the_one_that_must_not(name: str) -> None:
    user = SERVICES[name]["user"]
    if name in ROOT_BECAUSE:
        assert user == "root"
    else:
        assert re.fullmatch(r"[1-9]\d*:\d+", user), f"{name}: {user}"


@pytest.mark.parametrize("name", SERVICES)
def test_every_container_is_bounded_in_cpu_memory_and_processes(name: str) -> None:
    service = SERVICES[name]
    assert set(service["deploy"]["resources"]["limits"]) == {"cpus", "memory"}
    assert service["pids_limit"] > 0


@pytest.mark.parametrize("name", [name for name in SERVICES if name != "provision"])
def test_every_long_running_container_says_when_it_is_ready(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_image_is_a_fixed_version(name: str) -> None:
    image = SERVICES[name]["image"]
    tag = image.rpartition(":")[2]
    exact = r"\d+\.\d+" if image.startswith("postgres:") else r"v?\d+\.\d+\.\d+"  # PostgreSQL's have two parts
    assert re.fullmatch(exact + r"(-[a-z0-9.-]+)?", tag), f"{name}: {image}"


def test_the_portal_runs_in_production_with_its_secret_from_a_docker_secret() -> None:
    portal = SERVICES["portal"]
    env = portal["environment"]
    prefix = PortalSettings.model_config["env_prefix"]
    fields = {prefix + field.upper() for field in PortalSettings.model_fields}
    assert set(env) - fields == {"JOBBRO_ENVIRONMENT"} and env["JOBBRO_ENVIRONMENT"] == "production"
    assert "PORTAL_OIDC_CLIENT_SECRET" not in env and portal["secrets"] == ["portal-client-secret"]
    assert 'PORTAL_OIDC_CLIENT_SECRET="$$(cat /run/secrets/portal-client-secret)"' in portal["entrypoint"][2]
    assert portal["command"] == ["python", "-m", "services.portal"]
    assert portal["ports"] == [f"8100:{env['PORTAL_HTTP_PORT']}"]


def test_keycloak_imports_the_production_realm_with_its_secrets_from_docker_secrets() -> None:
    keycloak = SERVICES["keycloak"]
    realm = REPO / "deploy" / "keycloak" / "jobbro-realm.production.json"
    assert keycloak["volumes"] == [f"../keycloak/{realm.name}:/opt/keycloak/data/import/jobbro-realm.json:ro"]
    placeholders = set(re.findall(r"\$\{(JOBBRO_[A-Z_]+)\}", realm.read_text()))
    given = set(keycloak["environment"]) | set(re.findall(r"(JOBBRO_[A-Z_]+)=", keycloak["entrypoint"][2]))
    assert placeholders and placeholders <= given
    for variable in ("KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD", "JOBBRO_PORTAL_CLIENT_SECRET"):
        assert variable not in keycloak["environment"]
        assert f'{variable}="$$(cat /run/secrets/' in keycloak["entrypoint"][2]
    assert "CREATE DATABASE keycloak;" in (REPO / "deploy" / "compose" / "init-databases.sql").read_text()


def test_every_secret_a_container_reads_is_one_the_generator_makes() -> None:
    generate = (REPO / "deploy" / "compose" / "secrets" / "generate").read_text()
    made = set(re.findall(r"[a-z][a-z0-9-]+", generate))
    assert set(COMPOSE["secrets"]) <= made, set(COMPOSE["secrets"]) - made


_PROCESSES = [  # Jobbro's long-running processes (not the one-off topic provisioning)
    name
    for name, service in COMPOSE["services"].items()
    if service.get("image", "").startswith("jobbro:") and service["command"][2] != "contracts.provision"
]


@pytest.mark.parametrize("name", _PROCESSES)
def test_every_jobbro_process_exports_traces_where_jobbro_otlp_traces_endpoint_says(name: str) -> None:
    service = COMPOSE["services"][name]
    endpoints = {key: value for key, value in service["environment"].items() if key.endswith("_OTLP_TRACES_ENDPOINT")}
    assert endpoints == {f"{name.upper()}_OTLP_TRACES_ENDPOINT": "${JOBBRO_OTLP_TRACES_ENDPOINT:-}"}
