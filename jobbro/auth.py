"""Access tokens of the identity provider (Keycloak in the stack), checked against its published keys.

The issuer's discovery document (`<issuer>/.well-known/openid-configuration`) names its JWKS; both are fetched on
the first token, not at import or start-up, so a service starts while the provider is down. Until they can be
fetched every token is answered with `IdentityProviderUnavailable` (503: the caller's token may well be good).
A token signed with a key id the cached JWKS lacks makes it fetch the JWKS again (at most once per
`refresh_seconds`), so a rotated key is picked up without a restart. Only asymmetric algorithms are accepted: the
service holds public keys and can mint nothing. No token is ever logged or repeated in an error.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
import structlog
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from jobbro.principal import Principal, Role, Unauthenticated
from jobbro.settings import ServiceSettings

log = structlog.get_logger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Asymmetric only: `none` and the HMAC family (which would take the public key as a shared secret) are refused."""
LEEWAY_SECONDS = 30
"""Clock skew allowed between the provider and this service for `exp`, `nbf` and `iat`."""
_RETRY_SECONDS = 1.0
_VERIFIED_TOKENS = 1024
"""Tokens whose signature was checked, remembered (a client sends the same token with every request); what depends
on the time (`exp`, `nbf`) is checked on every use."""
_MAX_TOKEN_CHARS = 16_384
_CVR = re.compile(r"\d{8}")
_MUNICIPALITY = re.compile(r"\d{3}")
_ROLES = {role.value: role for role in Role}


class IdentityProviderUnavailable(Exception):
    """The provider's discovery document or keys cannot be fetched now: answered 503, the token is not judged."""


class OidcAuthenticator:
    """Turns an access token of `issuer`, meant for `audience`, into the `Principal` it names."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        refresh_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self._refresh_seconds = refresh_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._transport = transport
        self._jwks_uri: str | None = None
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> OidcAuthenticator:
        return cls(settings.oidc_issuer, settings.oidc_audience)

    async def authenticate(self, token: str) -> Principal:
        if not token:
            raise Unauthenticated("token_missing", "A bearer token is required.")
        claims = self._verified.get(token)
        if claims is None:
            claims = await self._verify(token)
            self._verified[token] = claims
            if len(self._verified) > _VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        self._validate(claims)
        return _principal(claims)

    async def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token signed by one of the issuer's keys with an asymmetric algorithm, not yet judged."""
        header = _header(token)
        keys = await self._keys_for(header.get("kid"))
        try:
            return dict(jwt.decode(token, keys, algorithms=[header["alg"]]).claims)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise _invalid("The token's signature does not verify with the issuer's keys.") from exc

    async def _keys_for(self, kid: Any) -> KeySet:
        """The issuer's keys, fetched again when they lack `kid` (a rotated key) and the last fetch is not recent."""
        keys = self._keys
        if keys is not None and _has(keys, kid):
            return keys
        async with self._lock:
            # a key rotated in is fetched at most once per refresh_seconds; an unreachable provider once a second
            wait = self._refresh_seconds if self._keys is not None else _RETRY_SECONDS
            if not (self._keys is not None and _has(self._keys, kid)) and self._clock() - self._fetched_at >= wait:
                await self._fetch()
            keys = self._keys
        if keys is None:
            raise IdentityProviderUnavailable("The identity provider cannot be reached; try again shortly.")
        if not _has(keys, kid):
            raise _invalid("The token is signed with a key the issuer does not publish.")
        return keys

    async def _fetch(self) -> None:
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, transport=self._transport
            ) as http:
                if self._jwks_uri is None:
                    discovery = await _json(http, f"{self.issuer}/.well-known/openid-configuration")
                    if discovery.get("issuer") != self.issuer or not isinstance(discovery.get("jwks_uri"), str):
                        raise IdentityProviderUnavailable("The discovery document names another issuer or no JWKS.")
                    self._jwks_uri = discovery["jwks_uri"]
                jwks = await _json(http, self._jwks_uri)
            keys = [key for key in jwks.get("keys", []) if key.get("use", "sig") == "sig" and key.get("kty") != "oct"]
            self._keys = KeySet.import_key_set({"keys": keys})
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("identity_provider_unavailable", issuer=self.issuer, error=type(exc).__name__)
            raise IdentityProviderUnavailable("The identity provider cannot be reached; try again shortly.") from exc
        finally:
            self._fetched_at = self._clock()
        log.info("identity_provider_keys_fetched", issuer=self.issuer, kids=sorted(_kids(self._keys)))

    def _validate(self, claims: Mapping[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(dict(claims))
        except ExpiredTokenError as exc:
            raise Unauthenticated("token_expired", "The bearer token has expired.") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise _invalid("The bearer token is not for this service or not yet valid.") from exc
        if claims.get("typ", "Bearer") != "Bearer":
            raise _invalid("Only access tokens are accepted, not ID or refresh tokens.")


def _header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, read before its signature is checked (to pick the key)."""
    if len(token) > _MAX_TOKEN_CHARS:
        raise _invalid("The bearer token is too long.")
    try:
        header = dict(jws.extract_compact(token.encode("ascii")).protected)
    except (JoseError, ValueError, UnicodeError, TypeError) as exc:
        raise _invalid("The bearer token is not a signed JWT.") from exc
    if header.get("alg") not in ALGORITHMS:
        raise _invalid("The bearer token's algorithm is not accepted.")
    return header


def _principal(claims: Mapping[str, Any]) -> Principal:
    realm_access = claims.get("realm_access")
    names = realm_access.get("roles", []) if isinstance(realm_access, dict) else []
    cvr, municipality = claims.get("cvr"), claims.get("municipality")
    if cvr is not None and not (isinstance(cvr, str) and _CVR.fullmatch(cvr)):
        raise _invalid("The token's CVR number is malformed.")
    if municipality is not None and not (isinstance(municipality, str) and _MUNICIPALITY.fullmatch(municipality)):
        raise _invalid("The token's municipality code is malformed.")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(_ROLES[name] for name in _strings(names) if name in _ROLES),
        cvr=cvr,
        municipality=municipality,
        event_types=frozenset(_strings(claims.get("event_types", []))),
    )


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        return (value,)
    return (item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _has(keys: KeySet, kid: Any) -> bool:
    return isinstance(kid, str) and kid in _kids(keys)


def _kids(keys: KeySet | None) -> set[str]:
    return {key.kid for key in keys.keys if key.kid} if keys else set()


async def _json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def _invalid(message: str) -> Unauthenticated:
    return Unauthenticated("token_invalid", message)
