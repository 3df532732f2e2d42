"""The representative's single-use link: a token this service signs, sealed for notify on its way to the mail.

The token is a JWT under an HMAC key of the link key ring (`kid` in its header; the first key signs, every listed
key verifies, so rotation keeps links in flight and removing a key voids its links). It names the application and
the approval request, expires with the request, and the application records its use, so it works once.

The token never travels readable: the approval event carries it sealed (JWE, `A256KW` + `A256GCM`) under a key
subsidy shares with notify only, together with the request and the address it is for, so that notify mails it to
that address alone. Whoever reads the topic, or a log of it, holds nothing that approves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from pydantic import SecretStr

from jobbro.keyring import KeyRing, Sealer, link_sealer
from services.subsidy.domain import DomainError, Role

ALGORITHM = "HS256"
SIGNING = "representative-link signature"
"""The use the link key ring's keys are derived for."""
_ISSUER = "jobbro-subsidy"
_AUDIENCE = "jobbro-subsidy-representative-link"
_MESSAGES = {
    "link_invalid": "This link is not a valid approval link.",
    "link_expired": "This approval link has expired.",
    "link_missing": "The approval link's token is missing: send it as `token` or in the X-Approval-Token header.",
}


class LinkRefused(DomainError):
    """A link that proves nothing; the message never repeats the token."""

    def __init__(self, code: str) -> None:
        super().__init__(_MESSAGES[code], code)


@dataclass(frozen=True)
class Link:
    """What a representative's link points at."""

    application_id: UUID
    request_id: UUID


class RepresentativeLinks:
    """Makes, seals and reads the signed links representatives answer through."""

    def __init__(self, keys: KeyRing, seal: Sealer) -> None:
        self._keys = keys
        self._seal = seal

    @classmethod
    def from_settings(cls, link_keys: SecretStr, link_seal_keys: SecretStr) -> RepresentativeLinks:
        signing = KeyRing.parse(link_keys, use=SIGNING, setting="SUBSIDY_LINK_KEYS")
        return cls(signing, link_sealer(link_seal_keys, setting="SUBSIDY_LINK_SEAL_KEYS"))

    def token(self, application_id: UUID, request_id: UUID, expires_at: datetime, now: datetime) -> str:
        """A token under the ring's first key that expires with the request."""
        claims = {
            "iss": _ISSUER,
            "aud": _AUDIENCE,
            "sub": str(application_id),
            "jti": str(request_id),
            "role": Role.REPRESENTATIVE.value,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        kid, key = self._keys.current
        return jwt.encode({"alg": ALGORITHM, "kid": kid}, claims, key, algorithms=[ALGORITHM])

    def sealed(self, application_id: UUID, request_id: UUID, to: str, expires_at: datetime, now: datetime) -> str:
        """A new token sealed for notify, with the request and the address it may be mailed to."""
        token = self.token(application_id, request_id, expires_at, now)
        return self._seal.seal(json.dumps({"token": token, "request_id": str(request_id), "to": to}))

    def read(self, token: str, now: datetime) -> Link:
        """The application and request a genuine, unexpired link under a listed key names."""
        claims = _validated(_decoded(token, self._keys), now)
        try:
            return Link(UUID(claims["sub"]), UUID(claims["jti"]))
        except (TypeError, ValueError) as exc:
            raise LinkRefused("link_invalid") from exc


def _decoded(token: str, keys: KeyRing) -> dict[str, Any]:
    """The claims of a token signed by the listed key its `kid` names, not yet checked."""
    try:
        kid = jws.extract_compact(token.encode()).headers().get("kid")
        key = keys.get(kid)
        if key is None:
            raise LinkRefused("link_invalid")
        return jwt.decode(token, key, algorithms=[ALGORITHM]).claims
    except (JoseError, ValueError) as exc:
        raise LinkRefused("link_invalid") from exc


def _validated(claims: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The claims, if they are a link of this service, not expired at `now` (its own clock made them: no leeway)."""
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=0,
        iss={"essential": True, "value": _ISSUER},
        aud={"essential": True, "value": _AUDIENCE},
        exp={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LinkRefused("link_expired") from exc
    except (JoseError, ValueError) as exc:
        raise LinkRefused("link_invalid") from exc
    return claims
