"""The development realm stays in step with the kit: its roles are `Role`'s, its tokens carry what services read."""

import importlib.util
import json
from typing import Any

from demo import logins
from jobbro.infra import REPO
from jobbro.principal import Role

REALM: dict[str, Any] = json.loads((REPO / "deploy" / "keycloak" / "jobbro-realm.json").read_text())
CLIENTS = {client["clientId"]: client for client in REALM["clients"]}


def test_the_realm_roles_are_exactly_the_kits() -> None:
    assert {role["name"] for role in REALM["roles"]["realm"]} == {role.value for role in Role}


def test_every_client_gets_the_jobbro_claims_and_every_service_as_audience() -> None:
    [scope] = REALM["clientScopes"]
    mappers = {mapper["name"]: mapper["config"] for mapper in scope["protocolMappers"]}
    audiences = {config["included.custom.audience"] for name, config in mappers.items() if name.startswith("audience")}
    assert audiences >= {f"jobbro-{service}" for service in ("subsidy", "benefits", "activation", "notify")}
    assert mappers["realm roles"]["claim.name"] == "realm_access.roles"
    assert mappers["event_types"]["multivalued"] == "true"
    assert {"sub", "cvr", "municipality"} <= set(mappers)
    assert all(client["defaultClientScopes"] == [scope["name"]] for client in CLIENTS.values())


def test_only_the_development_cli_client_may_log_in_with_a_password() -> None:
    assert {name for name, client in CLIENTS.items() if client["directAccessGrantsEnabled"]} == {logins.CLIENT}
    portal = CLIENTS["jobbro-portal"]
    assert not portal["publicClient"] and portal["attributes"]["pkce.code.challenge.method"] == "S256"
    assert portal["redirectUris"] == ["http://127.0.0.1:8100/*"]
    assert CLIENTS[logins.INTEGRATOR_CLIENT]["serviceAccountsEnabled"]


def test_tokens_are_short_lived() -> None:
    assert REALM["accessTokenLifespan"] == 300


def test_every_development_login_the_demo_names_exists() -> None:
    users = {user["username"] for user in REALM["users"]}
    named = {value for name, value in vars(logins).items() if name.isupper() and isinstance(value, str)}
    assert named - users <= {logins.CLIENT, logins.INTEGRATOR_CLIENT, logins.INTEGRATOR_SECRET}
    assert set(logins.EMPLOYERS.values()) <= users


def _production_realm_module() -> Any:
    path = REPO / "deploy" / "keycloak" / "production_realm.py"
    spec = importlib.util.spec_from_file_location("production_realm", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PRODUCTION_FILE = REPO / "deploy" / "keycloak" / "jobbro-realm.production.json"
PRODUCTION: dict[str, Any] = json.loads(PRODUCTION_FILE.read_text())


def test_the_production_realm_is_the_one_its_script_makes_from_the_development_realm() -> None:
    """Stale after any change of jobbro-realm.json: run python deploy/keycloak/production_realm.py."""
    module = _production_realm_module()
    assert PRODUCTION_FILE.read_text() == module.render(module.production_realm(REALM))


def test_the_production_realm_has_no_development_user_client_secret_or_address() -> None:
    assert "users" not in PRODUCTION
    assert all(not client["directAccessGrantsEnabled"] for client in PRODUCTION["clients"])
    [portal] = PRODUCTION["clients"]
    assert portal["secret"] == "${JOBBRO_PORTAL_CLIENT_SECRET}"
    assert portal["redirectUris"] == ["${JOBBRO_PORTAL_URL}/*"]
    text = PRODUCTION_FILE.read_text()
    for development in ("development", "127.0.0.1", "localhost", "hashIterations(1)"):
        assert development not in text.lower()
    assert PRODUCTION["sslRequired"] == "all"


def test_the_production_realm_keeps_the_roles_claims_and_token_lifetimes() -> None:
    assert PRODUCTION["roles"] == REALM["roles"] and PRODUCTION["clientScopes"] == REALM["clientScopes"]
    assert PRODUCTION["accessTokenLifespan"] == REALM["accessTokenLifespan"] == 300
