"""The portal as an OpenID Connect client (authorization code + PKCE) of the identity provider.

The discovery document and the JWKS are fetched on first use. The ID token is checked here (signature with the
issuer's keys, `iss`, `aud` = this client, `exp`, and the `nonce` of this login); the access token is judged by
the kit's `OidcAuthenticator`, as every service judges it. No token is ever logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from jobbro.auth import ALGORITHMS, LEEWAY_SECONDS
from services.portal.settings import PortalSettings


class LoginFailed(Exception):
    """The identity provider's answer to a login cannot be trusted or used; the user is asked to log in again."""


@dataclass(frozen=True)
class PendingLogin:
    """What the portal remembers between sending the browser to the provider and its return."""

    state: str
    nonce: str
    verifier: str
    next_path: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str
    expires_at: float
    id_claims: dict[str, Any]


def new_login(next_path: str) -> PendingLogin:
    return PendingLogin(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64), next_path)


def challenge(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """The confidential client `jobbro-portal` of the identity provider."""

    def __init__(self, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._http = httpx.AsyncClient(timeout=settings.http_timeout_seconds, transport=transport)
        self._discovery: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def close(self) -> None:
        await self._http.aclose()

    async def authorization_url(self, login: PendingLogin, language: str) -> str:
        discovery = await self._discover()
        query = {
            "response_type": "code",
            "client_id": self._settings.oidc_client_id,
            "redirect_uri": self._settings.redirect_uri,
            "scope": "openid",
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": challenge(login.verifier),
            "code_challenge_method": "S256",
            "ui_locales": language,
        }
        return f"{discovery['authorization_endpoint']}?{urlencode(query)}"

    async def exchange(self, code: str, login: PendingLogin) -> Tokens:
        """The tokens for an authorization code, with the ID token checked against this login's nonce."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.redirect_uri,
            "code_verifier": login.verifier,
        }
        tokens = await self._token_request(form)
        claims = await self._id_claims(tokens.get("id_token"))
        if not secrets.compare_digest(str(claims.get("nonce", "")), login.nonce):
            raise LoginFailed("the ID token's nonce is not this login's")
        return _tokens(tokens, claims)

    async def refresh(self, current: Tokens) -> Tokens:
        """New tokens from the refresh token; the provider ends the session by refusing."""
        if not current.refresh_token:
            raise LoginFailed("no refresh token")
        tokens = await self._token_request({"grant_type": "refresh_token", "refresh_token": current.refresh_token})
        claims = await self._id_claims(tokens["id_token"]) if tokens.get("id_token") else current.id_claims
        return _tokens({"id_token": current.id_token} | tokens, claims)

    async def end_session_url(self, id_token: str, after: str) -> str | None:
        discovery = await self._discover()
        endpoint = discovery.get("end_session_endpoint")
        if not endpoint:
            return None
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": after,
            "client_id": self._settings.oidc_client_id,
        }
        return f"{endpoint}?{urlencode(query)}"

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        discovery = await self._discover()
        auth = (self._settings.oidc_client_id, self._settings.oidc_client_secret.get_secret_value())
        try:
            response = await self._http.post(discovery["token_endpoint"], data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise LoginFailed(f"the token endpoint cannot be reached: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise LoginFailed(f"the token endpoint answered {response.status_code}")
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise LoginFailed("the token endpoint's answer holds no access token")
        return body

    async def _id_claims(self, id_token: Any) -> dict[str, Any]:
        if not isinstance(id_token, str):
            raise LoginFailed("no ID token")
        keys = await self._jwks()
        try:
            claims = dict(jwt.decode(id_token, keys, algorithms=list(ALGORITHMS)).claims)
            jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._settings.oidc_client_id},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise LoginFailed(f"the ID token is not valid: {type(exc).__name__}") from exc
        return claims

    async def _discover(self) -> dict[str, Any]:
        if self._discovery is None:
            try:
                response = await self._http.get(f"{self._issuer}/.well-known/openid-configuration")
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise LoginFailed(f"the identity provider cannot be reached: {type(exc).__name__}") from exc
            discovery = response.json()
            if discovery.get("issuer") != self._issuer:
                raise LoginFailed("the discovery document names another issuer")
            self._discovery = discovery
        return self._discovery

    async def _jwks(self) -> KeySet:
        if self._keys is None:
            discovery = await self._discover()
            try:
                response = await self._http.get(discovery["jwks_uri"])
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise LoginFailed(f"the provider's keys cannot be fetched: {type(exc).__name__}") from exc
            keys = [key for key in response.json().get("keys", []) if key.get("use", "sig") == "sig"]
            self._keys = KeySet.import_key_set({"keys": [key for key in keys if key.get("kty") != "oct"]})
        return self._keys


def _tokens(body: dict[str, Any], claims: dict[str, Any]) -> Tokens:
    return Tokens(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token"),
        id_token=body["id_token"],
        expires_at=time.time() + float(body.get("expires_in", 60)),
        id_claims=claims,
    )
