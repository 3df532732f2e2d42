"""Who is asking: bearer tokens from the identity provider (the representative's link is in `links.py`).

Bearer tokens are JWTs signed by the issuer whose public key the settings hold (asymmetric algorithms only, so
this service cannot mint them).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, RSAKey

from services.subsidy.domain import Actor, Role

ISSUER_ALGORITHMS = ("ES256", "ES384", "RS256", "PS256")
_CLOCK_SKEW_SECONDS = 30
"""Leeway for the identity provider's clock."""
_DECODED_TOKENS = 1024
"""Bearer tokens whose signature check is remembered: a client sends the same token with every request."""
_CVR = re.compile(r"\d{8}")
_MUNICIPALITY = re.compile(r"\d{3}")


class TokenRefused(Exception):
    """A bearer token or link that proves nothing; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BearerTokens:
    """Reads the identity provider's bearer tokens into an `Actor`."""

    def __init__(self, issuer: str, audience: str, public_key_pem: str) -> None:
        self._issuer = issuer
        self._audience = audience
        key = load_pem_public_key(public_key_pem.encode())
        jose_key = (ECKey if isinstance(key, ec.EllipticCurvePublicKey) else RSAKey).import_key(public_key_pem)
        self._decoded = lru_cache(maxsize=_DECODED_TOKENS)(
            partial(_decoded, key=jose_key, algorithms=ISSUER_ALGORITHMS, kind="token")
        )
        """The same token always decodes to the same claims; what depends on the time is checked on every use."""

    def actor(self, token: str, now: datetime) -> Actor:
        """The actor a valid token names; an employer must name a CVR number, a caseworker a municipality."""
        claims = _validated(
            self._decoded(token),
            now,
            kind="token",
            iss=self._issuer,
            aud=self._audience,
            required=("sub", "role"),
        )
        role = claims["role"]
        if role == Role.EMPLOYER and _CVR.fullmatch(str(claims.get("cvr", ""))):
            return Actor(Role.EMPLOYER, str(claims["sub"]), cvr=claims["cvr"])
        if role == Role.CASEWORKER and _MUNICIPALITY.fullmatch(str(claims.get("municipality", ""))):
            return Actor(Role.CASEWORKER, str(claims["sub"]), municipality=claims["municipality"])
        raise TokenRefused(
            "token_invalid",
            "The token names neither an employer with a CVR number nor a caseworker with a municipality.",
        )


_MESSAGES = {
    "token_invalid": "The bearer token is not valid here.",
    "token_expired": "The bearer token has expired.",
}


def _decoded(token: str, key: ECKey | RSAKey, algorithms: tuple[str, ...], *, kind: str) -> dict[str, Any]:
    """The claims of a token signed by `key` with an allowed algorithm, not yet checked."""
    try:
        return jwt.decode(token, key, algorithms=list(algorithms)).claims
    except (JoseError, ValueError) as exc:
        raise _refused(f"{kind}_invalid") from exc


def _validated(
    claims: dict[str, Any], now: datetime, *, kind: str, iss: str, aud: str, required: tuple[str, ...]
) -> dict[str, Any]:
    """The claims, if they are for `aud`, from `iss`, and not expired at `now`."""
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=_CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": iss},
        aud={"essential": True, "value": aud},
        exp={"essential": True},
        **{name: {"essential": True} for name in required},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise _refused(f"{kind}_expired") from exc
    except (JoseError, ValueError) as exc:
        raise _refused(f"{kind}_invalid") from exc
    return claims


def _refused(code: str) -> TokenRefused:
    return TokenRefused(code, _MESSAGES[code])
