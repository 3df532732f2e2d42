"""The development realm stays in step with the kit: its roles are `Role`'s, its tokens carry what services read."""

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
