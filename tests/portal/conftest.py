"""A whole stack with the portal in it (`jobbroctl.stack.beside`: free ports, fresh databases and topics), the
development Keycloak told the portal's address, and Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from jobbro.infra import Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout
from tests.portal.browser import launch_options

_ADMIN = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"}
"""The bootstrap administrator of the DEVELOPMENT Keycloak (deploy/local/keycloak)."""


@pytest.fixture(scope="module")
async def portal_stack(
    infra: Infrastructure, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Layout]:
    """Every process of the stack, the portal among them, ready; the portal's URL accepted by Keycloak."""
    async with stack.beside(infra, tmp_path_factory.mktemp("portal-stack"), "portal") as (layout, _prefix):
        with _redirects_allowed(oidc_issuer, layout.service("portal").url):
            yield layout


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(**launch_options())
        yield found
        await found.close()


@pytest.fixture
def screenshots() -> Path | None:
    """Where `scripts/portal-screenshots` (`JOBBRO_PORTAL_SCREENSHOTS`) asks the browser tests to save each page."""
    folder = os.environ.get("JOBBRO_PORTAL_SCREENSHOTS")
    return Path(folder) if folder else None


class _redirects_allowed:  # noqa: N801 - used as a context manager, named for what it does
    """The development realm's `jobbro-portal` client accepts redirects to `portal_url` (a test stack's free port)
    until the block ends; the realm file itself names only the default port 8100."""

    def __init__(self, issuer: str, portal_url: str) -> None:
        server, realm = issuer.rsplit("/realms/", 1)
        self._admin = f"{server}/admin/realms/{realm}"
        self._token_url = f"{server}/realms/master/protocol/openid-connect/token"
        self._uri = f"{portal_url}/*"

    def __enter__(self) -> None:
        self._change(lambda uris: [*uris, self._uri])

    def __exit__(self, *_exc: object) -> None:
        self._change(lambda uris: [uri for uri in uris if uri != self._uri])

    def _change(self, edit: Callable[[list[str]], list[str]]) -> None:
        with httpx.Client(timeout=30) as http:
            token = http.post(self._token_url, data=_ADMIN).raise_for_status().json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            [client] = http.get(f"{self._admin}/clients", params={"clientId": "jobbro-portal"}, headers=headers).json()
            client["redirectUris"] = edit(client.get("redirectUris", []))
            logout = client.setdefault("attributes", {}).get("post.logout.redirect.uris", "")
            client["attributes"]["post.logout.redirect.uris"] = "##".join(edit([u for u in logout.split("##") if u]))
            http.put(f"{self._admin}/clients/{client['id']}", json=client, headers=headers).raise_for_status()
