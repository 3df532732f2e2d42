"""Who is calling: the roles of Jobbro and the principal a verified access token names.

The identity provider (Keycloak in the stack; in production brokering to MitID Erhverv and NemLog-in) puts these in
its access tokens: realm roles in `realm_access.roles`, and the claims `cvr` (an employer's company),
`municipality` (a caseworker's or manager's), `event_types` (what an integrator may receive). Services never read
claims themselves: an `Authenticator` turns a token into a `Principal`, and routes declare the roles they admit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    """A realm role of the identity provider; a principal may hold several."""

    EMPLOYER = "employer"
    """Sees and manages its own CVR's applications."""
    EMPLOYER_SIGNER = "employer-signer"
    """May submit signed documents for its CVR (apply, confirm, extend, report wages); held beside `employer`."""
    CASEWORKER = "caseworker"
    """Decides referred cases and reads citizens' plans of one municipality."""
    MANAGER = "jobcenter-manager"
    """Reads the statistics of one municipality."""
    OPERATOR = "operator"
    """Runs the platform: registry import, payment run, reissue, dead letters."""
    AUDITOR = "auditor"
    """Reads everything of every municipality, changes nothing."""
    INTEGRATOR = "integrator"
    """Manages its own webhook subscriptions, for the event types its grant names."""
    SENSITIVE_FIELDS = "sensitive-fields"
    """An integrator's grant to receive fields the catalog marks sensitive (held beside `integrator`)."""


@dataclass(frozen=True)
class Principal:
    """The caller a valid access token names; `subject` is the provider's stable id of the user or client."""

    subject: str
    roles: frozenset[Role]
    cvr: str | None = None
    municipality: str | None = None
    event_types: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def __str__(self) -> str:
        return f"{self.subject}({','.join(sorted(self.roles))})"


class Unauthenticated(Exception):
    """No valid token: missing, malformed, badly signed, expired, from another issuer or for another audience.

    `code` is stable (`token_missing`, `token_invalid`, `token_expired`); the message never repeats the token.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Authenticator(Protocol):
    """Turns a bearer token into the principal it names, or raises `Unauthenticated`."""

    async def authenticate(self, token: str) -> Principal: ...
