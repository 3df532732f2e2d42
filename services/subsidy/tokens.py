"""The representative's single-use link (bearer tokens of the identity provider are the kit's: `jobbro.auth`).

A representative's link carries a JWT this service signs itself with an HMAC
key; it names the application and the approval request, expires with the request, and the application
records its use, so it works once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey

from services.subsidy.domain import Role

LINK_ALGORITHM = "HS256"
_LINK_ISSUER = "jobbro-subsidy"
_LINK_AUDIENCE = "jobbro-subsidy-representative-link"


class TokenRefused(Exception):
    """A link that proves nothing; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Link:
    """What a representative's link points at."""

    application_id: UUID
    request_id: UUID


class RepresentativeLinks:
    """Makes and reads the signed links representatives answer through."""

    def __init__(self, key: str, base_url: str) -> None:
        self._key = OctKey.import_key(key)
        self._base_url = base_url

    def url(self, application_id: UUID, request_id: UUID, expires_at: datetime, now: datetime) -> str:
        """The link to send: the base URL with a token that expires with the request."""
        claims = {
            "iss": _LINK_ISSUER,
            "aud": _LINK_AUDIENCE,
            "sub": str(application_id),
            "jti": str(request_id),
            "role": Role.REPRESENTATIVE.value,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode({"alg": LINK_ALGORITHM}, claims, self._key, algorithms=[LINK_ALGORITHM])
        return f"{self._base_url}?{urlencode({'token': token})}"

    def read(self, token: str, now: datetime) -> Link:
        """The application and request a genuine, unexpired link names."""
        claims = _validated(
            _decoded(token, self._key, (LINK_ALGORITHM,), kind="link"),
            now,
            kind="link",
            iss=_LINK_ISSUER,
            aud=_LINK_AUDIENCE,
            required=("sub", "jti"),
        )
        try:
            return Link(UUID(claims["sub"]), UUID(claims["jti"]))
        except (TypeError, ValueError) as exc:
            raise _refused("link_invalid") from exc


_MESSAGES = {
    "link_invalid": "This link is not a valid approval link.",
    "link_expired": "This approval link has expired.",
}


def _decoded(token: str, key: OctKey, algorithms: tuple[str, ...], *, kind: str) -> dict[str, Any]:
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
        leeway=0,  # links are made and read by this service's own clock
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
