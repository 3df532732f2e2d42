"""Tests' callers: authorization headers for the usual roles, from the `token_for` fixture (real Keycloak tokens of
realm users made on demand, tests/keycloak.py)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from jobbro.principal import Role

TokenFor = Callable[..., str]
"""`token_for(*roles, cvr=None, municipality=None, event_types=(), subject=None) -> token`: `RealmUsers.issue`."""


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
        return bearer(self.token_for(*roles, event_types=event_types, subject=f"integrator-{secrets.token_hex(6)}"))
