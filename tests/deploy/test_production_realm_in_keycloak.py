"""The production realm, created in the real (development) Keycloak under a name of its own: Keycloak accepts it
whole (password policy, client scope, mappers) and it then behaves as production must. The values Keycloak would
take from its environment at import are filled in here the same way."""

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jobbro.infra import REPO

REALM_FILE = REPO / "deploy" / "keycloak" / "jobbro-realm.production.json"
DEVELOPMENT_ADMIN = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"}
"""The bootstrap administrator of the DEVELOPMENT Keycloak (deploy/local/keycloak), which alone may create realms."""


class _Admin:
    def __init__(self, server: str) -> None:
        self.server = server
        token = httpx.post(f"{server}/realms/master/protocol/openid-connect/token", data=DEVELOPMENT_ADMIN, timeout=30)
        token.raise_for_status()
        self.http = httpx.Client(
            base_url=f"{server}/admin/realms",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
        )


@pytest.fixture
def production(oidc_issuer: str) -> Iterator[tuple[_Admin, str, str]]:
    """The production realm created as `jobbro-production-<random>`; its portal client secret; deleted after."""
    server = oidc_issuer.rsplit("/realms/", 1)[0]
    admin = _Admin(server)
    name, client_secret = f"jobbro-production-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    text = REALM_FILE.read_text().replace("${JOBBRO_PORTAL_CLIENT_SECRET}", client_secret)
    realm: dict[str, Any] = json.loads(text.replace("${JOBBRO_PORTAL_URL}", "https://jobbro.example"))
    realm["realm"] = name
    try:  # deleted even when the answer to creating it is lost
        created = admin.http.post("", json=realm)
        assert created.status_code == 201, created.text
        yield admin, name, client_secret
    finally:
        admin.http.delete(f"/{name}")
        admin.http.close()


def test_keycloak_takes_the_production_realm_with_no_user_and_only_the_portals_client(
    production: tuple[_Admin, str, str],
) -> None:
    admin, name, client_secret = production
    assert admin.http.get(f"/{name}/users/count").json() == 0
    every = admin.http.get(f"/{name}/clients").json()
    clients = {c["clientId"]: c for c in every if c["clientId"].startswith("jobbro")}  # not Keycloak's own
    assert set(clients) == {"jobbro-portal"}
    portal = clients["jobbro-portal"]
    assert not portal["directAccessGrantsEnabled"] and portal["redirectUris"] == ["https://jobbro.example/*"]
    assert admin.http.get(f"/{name}/clients/{portal['id']}/client-secret").json()["value"] == client_secret


def test_the_production_realm_refuses_a_short_password_and_plain_http(production: tuple[_Admin, str, str]) -> None:
    admin, name, _ = production
    made = admin.http.post(f"/{name}/users", json={"username": "someone", "enabled": True})
    assert made.status_code == 201, made.text
    user_id = made.headers["Location"].rsplit("/", 1)[1]
    short = admin.http.put(
        f"/{name}/users/{user_id}/reset-password", json={"type": "password", "value": "short", "temporary": False}
    )
    assert short.status_code == 400 and "invalidPasswordMinLength" in short.text
    login = httpx.post(
        f"{admin.server}/realms/{name}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": "jobbro-portal", "client_secret": "x"},
        timeout=30,
    )
    assert login.status_code == 403 and "HTTPS required" in login.text
