"""DEVELOPMENT logins: the users and clients of the realm `jobbro` (deploy/keycloak/jobbro-realm.json), and access
tokens for them from the running Keycloak.

Users log in with the password grant through the public client `jobbro-cli` (direct access grants are enabled in
this development realm only; a real deployment logs people in through the browser, brokered to MitID Erhverv or
NemLog-in). Each user's password is its user name. The example integrator uses client credentials.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CLIENT = "jobbro-cli"
INTEGRATOR_CLIENT = "jobbro-integrator-example"
INTEGRATOR_SECRET = "development-only-integrator-secret"

SIGNER = "employer-12345678"
"""Hansen VVS (CVR 12345678): employer and employer-signer."""
OTHER_SIGNER = "employer-87654321"
"""Nordisk Logistik (CVR 87654321): employer and employer-signer."""
VIEWER = "viewer-12345678"
"""Hansen VVS's bookkeeper: employer (views), no signing right."""
CASEWORKER = "caseworker-751"
"""Aarhus (751), where the demo's citizens live."""
OTHER_CASEWORKER = "caseworker-101"
"""Copenhagen (101)."""
MANAGER = "manager-751"
OPERATOR = "operator"
AUDITOR = "auditor"
INTEGRATOR = "integrator"

EMPLOYERS = {"12345678": SIGNER, "87654321": OTHER_SIGNER}
"""The signing user of each development CVR number."""


class IdentityProviderMissing(RuntimeError):
    """Keycloak neither named by `JOBBRO_OIDC_ISSUER` nor startable with deploy/local/keycloak."""


def local_issuer() -> str:
    """The issuer of the running development Keycloak: `JOBBRO_OIDC_ISSUER`, else deploy/local/keycloak's
    (started if it is not running); its discovery document must answer."""
    issuer = os.environ.get("JOBBRO_OIDC_ISSUER")
    if not issuer:
        script = str(REPO / "deploy" / "local" / "keycloak")
        up = subprocess.run([script, "up"], capture_output=True, text=True)
        if up.returncode != 0:
            raise IdentityProviderMissing(f"deploy/local/keycloak up failed:\n{up.stderr[-3000:]}")
        exports = subprocess.run([script, "env"], capture_output=True, text=True, check=True).stdout
        issuer = shlex.split(exports.strip().removeprefix("export "))[0].split("=", 1)[1]
    try:
        httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise IdentityProviderMissing(f"the identity provider {issuer} does not answer: {exc!r}") from exc
    return issuer


async def token(http: httpx.AsyncClient, issuer: str, username: str) -> str:
    """An access token of a development user (password = user name)."""
    return await _grant(
        http, issuer, {"grant_type": "password", "client_id": CLIENT, "username": username, "password": username}
    )


async def integrator_token(http: httpx.AsyncClient, issuer: str) -> str:
    """An access token of the example integrator's service account (client credentials)."""
    form = {"grant_type": "client_credentials", "client_id": INTEGRATOR_CLIENT, "client_secret": INTEGRATOR_SECRET}
    return await _grant(http, issuer, form)


class Logins:
    """Bearer headers of development users for one client session: a token is fetched when first needed and again
    once it is within a minute of its expiry (the realm's tokens live five minutes). Concurrent callers of one user
    wait for one login: the realm's brute-force detection refuses a burst of simultaneous logins of one user."""

    _RENEW_BEFORE_SECONDS = 60

    def __init__(self, http: httpx.AsyncClient, issuer: str) -> None:
        self._http = http
        self.issuer = issuer
        self._tokens: dict[str, tuple[str, float]] = {}
        self._logging_in: dict[str, asyncio.Lock] = {}

    async def headers(self, username: str) -> dict[str, str]:
        """`Authorization: Bearer …` for `username`."""
        async with self._logging_in.setdefault(username, asyncio.Lock()):
            return {"Authorization": f"Bearer {await self._token(username)}"}

    async def _token(self, username: str) -> str:
        token, renew_at = self._tokens.get(username, ("", 0.0))
        if time.monotonic() >= renew_at:
            started = time.monotonic()
            response = await self._http.post(
                f"{self.issuer}/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": CLIENT, "username": username, "password": username},
                timeout=30,
            )
            token = _access_token(response, username)
            lifetime = float(response.json().get("expires_in", 300))
            self._tokens[username] = (token, started + lifetime - self._RENEW_BEFORE_SECONDS)
        return token


def token_sync(issuer: str, username: str) -> str:
    """`token` for synchronous callers (the CLI)."""
    form = {"grant_type": "password", "client_id": CLIENT, "username": username, "password": username}
    response = httpx.post(f"{issuer}/protocol/openid-connect/token", data=form, timeout=30)
    return _access_token(response, username)


async def _grant(http: httpx.AsyncClient, issuer: str, form: dict[str, str]) -> str:
    response = await http.post(f"{issuer}/protocol/openid-connect/token", data=form, timeout=30)
    return _access_token(response, form.get("username", form["client_id"]))


def _access_token(response: httpx.Response, who: str) -> str:
    if response.status_code != 200:
        # the error body names the failure (invalid_grant, ...) and never contains a token
        raise IdentityProviderMissing(f"no token for {who}: {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])
