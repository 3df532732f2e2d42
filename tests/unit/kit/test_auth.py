"""The authenticator against an identity provider served in-process (discovery document and JWKS over an httpx
transport): what needs a clock or a provider that comes and goes. The real Keycloak: tests/integration/test_oidc.py."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from jobbro.auth import IdentityProviderUnavailable, OidcAuthenticator
from jobbro.principal import Role, Unauthenticated

ISSUER = "https://login.jobbro.example/realms/jobbro"
AUDIENCE = "jobbro-benefits"


class Provider:
    """An issuer with rotating keys, which can be down; counts how often its JWKS was fetched."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "first", "use": "sig"})]
        self.up = True
        self.jwks_fetched = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/certs"})
        self.jwks_fetched += 1
        return httpx.Response(200, json=KeySet(self.keys).as_dict(private=False))

    def rotate(self, kid: str) -> None:
        self.keys.insert(0, RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}))

    def token(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": [AUDIENCE], "sub": "u-1", "iat": now, "exp": now + 300, "typ": "Bearer"}
        body["realm_access"] = {"roles": ["operator", "offline_access"]}
        key = self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, body | claims, key)


@pytest.fixture
def provider() -> Provider:
    return Provider()


def _authenticator(provider: Provider, **options: Any) -> OidcAuthenticator:
    return OidcAuthenticator(ISSUER, AUDIENCE, transport=httpx.MockTransport(provider.handle), **options)


async def test_a_service_started_while_the_provider_was_down_accepts_tokens_once_it_is_up(provider: Provider) -> None:
    clock = [time.time()]
    authenticator = _authenticator(provider, clock=lambda: clock[0])
    provider.up = False
    with pytest.raises(IdentityProviderUnavailable):
        await authenticator.authenticate(provider.token())
    provider.up = True
    with pytest.raises(IdentityProviderUnavailable):  # an unreachable provider is asked again at most once a second
        await authenticator.authenticate(provider.token())
    clock[0] += 1.0
    assert (await authenticator.authenticate(provider.token())).roles == {Role.OPERATOR}


async def test_an_unknown_key_id_fetches_the_keys_again_at_most_once_per_interval(provider: Provider) -> None:
    authenticator = _authenticator(provider, refresh_seconds=3600)
    await authenticator.authenticate(provider.token())
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate(provider.token(header={"kid": "nobody-knows"}))
    assert provider.jwks_fetched == 1  # forged key ids do not make it hammer the provider


async def test_a_rotated_key_is_fetched_when_a_token_names_it(provider: Provider) -> None:
    authenticator = _authenticator(provider, refresh_seconds=0)
    await authenticator.authenticate(provider.token())
    provider.rotate("second")
    assert (await authenticator.authenticate(provider.token())).has(Role.OPERATOR)
    assert provider.jwks_fetched == 2


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": ["jobbro-subsidy"]}, "token_invalid"),
        ({"iss": "https://elsewhere.example/realms/jobbro"}, "token_invalid"),
        ({"nbf": int(time.time()) + 3600}, "token_invalid"),
        ({"exp": int(time.time()) - 31}, "token_expired"),
        ({"typ": "ID"}, "token_invalid"),
        ({"typ": "Refresh"}, "token_invalid"),
        ({"cvr": "1234"}, "token_invalid"),
        ({"municipality": ["751"]}, "token_invalid"),
    ],
)
async def test_refuses_claims_that_do_not_hold(provider: Provider, claims: dict[str, Any], code: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await _authenticator(provider).authenticate(provider.token(**claims))
    assert refused.value.code == code


async def test_a_token_within_the_clock_skew_is_accepted(provider: Provider) -> None:
    now = int(time.time())
    token = provider.token(exp=now - 20, nbf=now + 20)
    assert (await _authenticator(provider).authenticate(token)).has(Role.OPERATOR)


async def test_a_token_without_an_expiry_is_refused(provider: Provider) -> None:
    key = provider.keys[0]
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1"}
    with pytest.raises(Unauthenticated) as refused:
        await _authenticator(provider).authenticate(jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key))
    assert refused.value.code == "token_invalid"


async def test_roles_the_platform_does_not_know_are_ignored(provider: Provider) -> None:
    token = provider.token(realm_access={"roles": ["uma_authorization", "admin", "auditor"]}, event_types="x.v1")
    principal = await _authenticator(provider).authenticate(token)
    assert principal.roles == {Role.AUDITOR} and principal.event_types == {"x.v1"}


async def test_a_verified_token_is_still_judged_by_the_clock_on_each_use(provider: Provider) -> None:
    now = time.time()
    authenticator = _authenticator(provider, clock=lambda: now)
    token = provider.token()
    await authenticator.authenticate(token)
    now += 400
    with pytest.raises(Unauthenticated) as refused:
        await authenticator.authenticate(token)
    assert refused.value.code == "token_expired"
