"""The test seam for the identity provider: opaque random tokens, each naming the principal it was issued for.

Services under test get `TokenBook` as their `Authenticator` (`create_app(..., authenticator=...)`) and tests ask
the `token_for` fixture for tokens; swapping both fixtures for real Keycloak tokens changes no test.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from jobbro.principal import Principal, Role, Unauthenticated

TokenFor = Callable[..., str]
"""`token_for(*roles, cvr=None, municipality=None, event_types=(), subject=None) -> token`: `TokenBook.issue`'s
signature, or that of whatever replaces it with real identity-provider tokens."""


class TokenBook:
    """An `Authenticator` that knows only the tokens it issued; any other token is refused as invalid."""

    def __init__(self) -> None:
        self._issued: dict[str, Principal] = {}

    def issue(
        self,
        *roles: Role,
        cvr: str | None = None,
        municipality: str | None = None,
        event_types: Iterable[str] = (),
        subject: str | None = None,
    ) -> str:
        token = secrets.token_urlsafe(24)
        self._issued[token] = Principal(
            subject=subject or f"test-{secrets.token_hex(6)}",
            roles=frozenset(roles),
            cvr=cvr,
            municipality=municipality,
            event_types=frozenset(event_types),
        )
        return token

    async def authenticate(self, token: str) -> Principal:
        try:
            return self._issued[token]
        except KeyError:
            raise Unauthenticated("token_invalid", "The token was not issued by this identity provider.") from None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Callers:
    """Authorization headers for the usual callers, each a fresh token from `token_for`."""

    def __init__(self, token_for: TokenFor) -> None:
        self.token_for = token_for

    def employer(self, cvr: str) -> dict[str, str]:
        """An employer's user with the signing right for `cvr`."""
        return bearer(self.token_for(Role.EMPLOYER, Role.EMPLOYER_SIGNER, cvr=cvr))

    def viewer(self, cvr: str) -> dict[str, str]:
        """An employer's user who may view `cvr`'s applications but sign nothing."""
        return bearer(self.token_for(Role.EMPLOYER, cvr=cvr))

    def caseworker(self, municipality: str = "751") -> dict[str, str]:
        return bearer(self.token_for(Role.CASEWORKER, municipality=municipality))

    def manager(self, municipality: str = "751") -> dict[str, str]:
        return bearer(self.token_for(Role.MANAGER, municipality=municipality))

    def auditor(self) -> dict[str, str]:
        return bearer(self.token_for(Role.AUDITOR))

    def operator(self) -> dict[str, str]:
        return bearer(self.token_for(Role.OPERATOR))

    def integrator(self, *event_types: str, sensitive: bool = False) -> dict[str, str]:
        """An integrator (its own subject) granted `event_types`, and the sensitive fields if `sensitive`."""
        roles = (Role.INTEGRATOR, Role.SENSITIVE_FIELDS) if sensitive else (Role.INTEGRATOR,)
        return bearer(self.token_for(*roles, event_types=event_types))
