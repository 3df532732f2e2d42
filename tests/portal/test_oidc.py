"""The portal's OpenID Connect client against an in-process provider: the ID token is trusted only when signed by
the issuer's key, for this client, unexpired, and carrying this login's nonce; PKCE's challenge is RFC 7636's."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.portal.oidc import LoginFailed, OidcClient, challenge, new_login
from services.portal.settings import PortalSettings

ISSUER = "http://idp.test/realms/jobbro"
_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
_OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})


class _Provider:
    """Discovery, JWKS and a token endpoint that answers with the ID token a test gives it."""

    def __init__(self) -> None:
        self.id_claims: dict[str, Any] = {}
        self.key = _KEY
        self.token_requests: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
                    "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
                    "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
                    "end_session_endpoint": f"{ISSUER}/protocol/openid-connect/logout",
                },
            )
        if path.endswith("/certs"):
            return httpx.Response(200, json={"keys": [_KEY.as_dict(private=False)]})
        if path.endswith("/token"):
            self.token_requests.append(parse_qs(request.content.decode()))
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, self.id_claims, self.key)
            body = {"access_token": "opaque-here", "refresh_token": "r", "id_token": id_token, "expires_in": 300}
            return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})
        return httpx.Response(404)


@pytest.fixture
def provider() -> _Provider:
    return _Provider()


@pytest.fixture
def client(provider: _Provider) -> OidcClient:
    return OidcClient(PortalSettings(oidc_issuer=ISSUER), transport=httpx.MockTransport(provider))


def _claims(nonce: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": "jobbro-portal", "sub": "u1", "iat": now, "exp": now + 300, "nonce": nonce} | changes


async def test_the_authorization_request_carries_state_nonce_and_the_s256_challenge(client: OidcClient) -> None:
    login = new_login("/applications")
    query = parse_qs(urlsplit(await client.authorization_url(login, "da")).query)
    assert query["state"] == [login.state] and query["nonce"] == [login.nonce]
    assert query["code_challenge"] == [challenge(login.verifier)] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8100/auth/callback"]
    assert "code_verifier" not in query


def test_the_pkce_challenge_is_rfc_7636s_example() -> None:
    assert challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def test_a_good_id_token_gives_the_tokens_and_the_verifier_is_sent(
    client: OidcClient, provider: _Provider
) -> None:
    login = new_login("/")
    provider.id_claims = _claims(login.nonce)
    tokens = await client.exchange("the-code", login)
    assert tokens.id_claims["sub"] == "u1"
    assert provider.token_requests[0]["code_verifier"] == [login.verifier]


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "another-login"},
        {"aud": "another-client"},
        {"iss": "http://idp.test/realms/other"},
        {"exp": int(time.time()) - 3600},
    ],
    ids=["nonce", "audience", "issuer", "expired"],
)
async def test_an_id_token_not_for_this_login_is_refused(
    client: OidcClient, provider: _Provider, change: dict[str, Any]
) -> None:
    login = new_login("/")
    provider.id_claims = _claims(login.nonce) | change
    with pytest.raises(LoginFailed):
        await client.exchange("the-code", login)


async def test_an_id_token_signed_by_another_key_is_refused(client: OidcClient, provider: _Provider) -> None:
    login = new_login("/")
    provider.id_claims = _claims(login.nonce)
    provider.key = _OTHER_KEY
    with pytest.raises(LoginFailed):
        await client.exchange("the-code", login)
