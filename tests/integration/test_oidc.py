"""The kit's authenticator against the real development Keycloak: its users' tokens name the right principal, and
every forged, foreign, expired or malformed token is refused with its code. A rotated key is picked up live."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import structlog.testing
from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.jwk import RSAKey

from demo import logins
from jobbro.auth import IdentityProviderUnavailable, OidcAuthenticator
from jobbro.principal import Principal, Role, Unauthenticated
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import ServiceSettings

_ADMIN = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"}
"""The bootstrap administrator of the DEVELOPMENT Keycloak (deploy/local/keycloak)."""


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def authenticator(oidc_issuer: str) -> OidcAuthenticator:
    return OidcAuthenticator(oidc_issuer, "jobbro-subsidy")


@pytest.mark.parametrize(
    ("username", "roles", "cvr", "municipality"),
    [
        (logins.SIGNER, {Role.EMPLOYER, Role.EMPLOYER_SIGNER}, "12345678", None),
        (logins.OTHER_SIGNER, {Role.EMPLOYER, Role.EMPLOYER_SIGNER}, "87654321", None),
        (logins.VIEWER, {Role.EMPLOYER}, "12345678", None),
        (logins.CASEWORKER, {Role.CASEWORKER}, None, "751"),
        (logins.OTHER_CASEWORKER, {Role.CASEWORKER}, None, "101"),
        (logins.MANAGER, {Role.MANAGER}, None, "751"),
        (logins.OPERATOR, {Role.OPERATOR}, None, None),
        (logins.AUDITOR, {Role.AUDITOR}, None, None),
    ],
)
async def test_a_development_users_token_names_its_roles_and_tenant(
    http: httpx.AsyncClient,
    oidc_issuer: str,
    authenticator: OidcAuthenticator,
    username: str,
    roles: set[Role],
    cvr: str | None,
    municipality: str | None,
) -> None:
    principal = await authenticator.authenticate(await logins.token(http, oidc_issuer, username))
    assert (principal.roles, principal.cvr, principal.municipality) == (roles, cvr, municipality)
    assert principal.subject and principal.event_types == frozenset()


async def test_an_integrators_token_names_the_event_types_of_its_grant(
    http: httpx.AsyncClient, oidc_issuer: str
) -> None:
    for token in (
        await logins.token(http, oidc_issuer, logins.INTEGRATOR),
        await logins.integrator_token(http, oidc_issuer),
    ):
        principal = await OidcAuthenticator(oidc_issuer, "jobbro-notify").authenticate(token)
        assert principal.roles == {Role.INTEGRATOR}
        assert "dk.jobbro.subsidy.application-approved.v1" in principal.event_types


async def test_every_service_is_an_audience_of_a_users_token(http: httpx.AsyncClient, oidc_issuer: str) -> None:
    token = await logins.token(http, oidc_issuer, logins.CASEWORKER)
    for service in ("subsidy", "benefits", "activation", "notify"):
        assert (await OidcAuthenticator(oidc_issuer, f"jobbro-{service}").authenticate(token)).has(Role.CASEWORKER)


async def test_refuses_a_token_for_another_audience(http: httpx.AsyncClient, oidc_issuer: str) -> None:
    token = await logins.token(http, oidc_issuer, logins.SIGNER)
    await _refused(OidcAuthenticator(oidc_issuer, "jobbro-elsewhere"), token, "token_invalid")


async def test_refuses_a_token_from_another_issuer(http: httpx.AsyncClient, oidc_issuer: str) -> None:
    """The master realm of the same server signs with its own keys and names itself as issuer."""
    master = oidc_issuer.rsplit("/realms/", 1)[0] + "/realms/master"
    response = await http.post(f"{master}/protocol/openid-connect/token", data=_ADMIN)
    await _refused(OidcAuthenticator(oidc_issuer, "jobbro-subsidy"), response.json()["access_token"], "token_invalid")


async def test_refuses_a_token_once_it_has_expired_beyond_the_clock_skew(
    http: httpx.AsyncClient, oidc_issuer: str
) -> None:
    token = await logins.token(http, oidc_issuer, logins.SIGNER)
    lifetime = _claims(token)["exp"] - time.time()
    within_skew = OidcAuthenticator(oidc_issuer, "jobbro-subsidy", clock=lambda: time.time() + lifetime + 20)
    assert (await within_skew.authenticate(token)).has(Role.EMPLOYER)
    later = OidcAuthenticator(oidc_issuer, "jobbro-subsidy", clock=lambda: time.time() + lifetime + 40)
    await _refused(later, token, "token_expired")


async def test_refuses_a_token_signed_by_another_key_under_the_issuers_key_id(
    http: httpx.AsyncClient, oidc_issuer: str, authenticator: OidcAuthenticator
) -> None:
    genuine = await logins.token(http, oidc_issuer, logins.CASEWORKER)
    forged = jwt.encode(_header(genuine), _claims(genuine) | {"municipality": "101"}, RSAKey.generate_key(2048))
    await _refused(authenticator, forged, "token_invalid")


async def test_refuses_unsigned_and_hmac_tokens_even_keyed_with_the_issuers_public_key(
    http: httpx.AsyncClient, oidc_issuer: str, authenticator: OidcAuthenticator
) -> None:
    genuine = await logins.token(http, oidc_issuer, logins.OPERATOR)
    claims, kid = _claims(genuine), _header(genuine)["kid"]
    unsigned = ".".join([_b64({"alg": "none", "typ": "JWT", "kid": kid}), _b64(claims), ""])
    await _refused(authenticator, unsigned, "token_invalid")
    jwks = (await http.get(f"{oidc_issuer}/protocol/openid-connect/certs")).json()
    public = RSAKey.import_key(next(key for key in jwks["keys"] if key["kid"] == kid)).as_pem(private=False)
    signing_input = ".".join([_b64({"alg": "HS256", "typ": "JWT", "kid": kid}), _b64(claims)])
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    keyed_with_public = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    await _refused(authenticator, keyed_with_public, "token_invalid")


@pytest.mark.parametrize("garbage", ["not-a-token", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", "x" * 20_000])
async def test_refuses_garbage(authenticator: OidcAuthenticator, garbage: str) -> None:
    await _refused(authenticator, garbage, "token_invalid")


async def test_refuses_an_empty_token(authenticator: OidcAuthenticator) -> None:
    await _refused(authenticator, "", "token_missing")


async def test_picks_up_a_rotated_key_without_restart(http: httpx.AsyncClient, oidc_issuer: str) -> None:
    authenticator = OidcAuthenticator(oidc_issuer, "jobbro-subsidy", refresh_seconds=0)
    before = await logins.token(http, oidc_issuer, logins.AUDITOR)
    assert (await authenticator.authenticate(before)).has(Role.AUDITOR)  # the keys of now are cached
    async with _rotated_key(http, oidc_issuer):
        after = await logins.token(http, oidc_issuer, logins.AUDITOR)
        assert _header(after)["kid"] != _header(before)["kid"]
        principal: Principal = await authenticator.authenticate(after)
        assert principal.has(Role.AUDITOR)
        assert (await authenticator.authenticate(before)).has(Role.AUDITOR)  # the old key still verifies


async def test_an_unreachable_provider_is_unavailable_not_a_bad_token(
    http: httpx.AsyncClient, oidc_issuer: str
) -> None:
    token = await logins.token(http, oidc_issuer, logins.AUDITOR)
    with pytest.raises(IdentityProviderUnavailable):
        await OidcAuthenticator("http://127.0.0.1:9/realms/jobbro", "jobbro-subsidy").authenticate(token)


async def test_a_service_checks_tokens_with_the_identity_provider_by_default(
    http: httpx.AsyncClient, oidc_issuer: str
) -> None:
    app = create_http_app(Runtime(ServiceSettings(service="activation", oidc_issuer=oidc_issuer)), _whoami())
    token = await logins.token(http, oidc_issuer, logins.MANAGER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://activation") as client:
        answer = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {"roles": ["jobcenter-manager"], "municipality": "751"}
    assert app.state.authenticator.audience == "jobbro-activation"


async def test_a_service_answers_503_while_the_identity_provider_is_unreachable(
    http: httpx.AsyncClient, oidc_issuer: str
) -> None:
    down = ServiceSettings(service="activation", oidc_issuer="http://127.0.0.1:9/realms/jobbro")
    app = create_http_app(Runtime(down), _whoami())
    token = await logins.token(http, oidc_issuer, logins.MANAGER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://activation") as client:
        answer = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json()["code"]) == (503, "identity_provider_unavailable")
    assert answer.headers["retry-after"] == "5"
    assert token not in answer.text


async def test_never_logs_a_token_it_refuses_or_accepts(
    http: httpx.AsyncClient, oidc_issuer: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine = await logins.token(http, oidc_issuer, logins.CASEWORKER)
    forged = jwt.encode(_header(genuine), _claims(genuine), RSAKey.generate_key(2048))
    caplog.set_level("DEBUG")
    with structlog.testing.capture_logs() as captured:  # wherever logging is configured to go (or not yet)
        authenticator = OidcAuthenticator(oidc_issuer, "jobbro-subsidy")
        await authenticator.authenticate(genuine)
        for token in (forged, genuine + "x", "garbage." + genuine):
            with pytest.raises(Unauthenticated):
                await authenticator.authenticate(token)
        with pytest.raises(IdentityProviderUnavailable):
            await OidcAuthenticator("http://127.0.0.1:9/realms/jobbro", "jobbro-subsidy").authenticate(genuine)
    logged = " ".join([str(captured), caplog.text, *capsys.readouterr()])
    assert "identity_provider_keys_fetched" in logged and "identity_provider_unavailable" in logged
    payload, signature = genuine.split(".")[1:]
    assert payload not in logged and signature not in logged


def test_the_development_keycloak_listens_on_loopback_only(oidc_issuer: str) -> None:
    """Keycloak listens on every address unless told otherwise: deploy/local/keycloak binds it to 127.0.0.1."""
    port = f"{urlsplit(oidc_issuer).port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local.endswith(":" + port):
                listening.append(local.rsplit(":", 1)[0])
    loopback = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
    assert listening and set(listening) <= loopback, listening


def _whoami() -> APIRouter:
    """A route asking the app's authenticator, as every service's route declaration does."""
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(request: Request) -> dict[str, object]:
        token = request.headers["authorization"].removeprefix("Bearer ")
        principal = await request.app.state.authenticator.authenticate(token)
        return {"roles": sorted(principal.roles), "municipality": principal.municipality}

    return router


class _rotated_key:  # noqa: N801 - used as `async with`
    """A new RSA key in the realm, active and preferred (highest priority); removed afterwards."""

    def __init__(self, http: httpx.AsyncClient, issuer: str) -> None:
        self._http, self._issuer = http, issuer
        self._server, self._realm = issuer.rsplit("/realms/", 1)
        self._location: str | None = None

    async def __aenter__(self) -> None:
        token = await self._http.post(f"{self._server}/realms/master/protocol/openid-connect/token", data=_ADMIN)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        admin = f"{self._server}/admin/realms/{self._realm}"
        realm_id = (await self._http.get(admin, headers=headers)).json()["id"]
        component = {
            "name": f"rotated-{time.time_ns()}",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {"priority": [str(10**6 + time.time_ns() % 10**6)], "active": ["true"], "enabled": ["true"]},
        }
        created = await self._http.post(f"{admin}/components", json=component, headers=headers)
        assert created.status_code == 201, created.text
        self._location, self._headers = created.headers["Location"], headers

    async def __aexit__(self, *_exc: object) -> None:
        if self._location:
            await self._http.delete(self._location, headers=self._headers)


async def _refused(authenticator: OidcAuthenticator, token: str, code: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await authenticator.authenticate(token)
    assert refused.value.code == code
    assert token[:40] not in str(refused.value) or not token


def _claims(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def _header(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
