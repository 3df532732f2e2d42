"""Who may call a route: the one way every service declares it, and the tenant checks that follow.

A route names the roles it admits in its signature, and receives the caller:

    async def plan(citizen_ref: str, principal: Principal = requires(Role.CASEWORKER, Role.AUDITOR)) -> ...

`requires` reads the bearer token (HTTPBearer, so OpenAPI shows the scheme, with the admitted roles as the
requirement's list), has `app.state.authenticator` turn it into a `Principal`, and refuses: 401 without a valid
token (`WWW-Authenticate: Bearer`), 403 `role_not_allowed` when the principal holds none of the roles (recorded in
the access audit by `app.state.record_refusal`, where the service keeps one). What the
role is bound to — a CVR number, a municipality — the route then checks on the object it reads or changes
(`sees_municipality`, `own_municipality`; subsidy's `_may_see` for a CVR); another tenant's object is answered as
if it did not exist (404).
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobbro.principal import Principal, Role, Unauthenticated
from jobbro.problems import problem

log = structlog.get_logger(__name__)

SCHEME = "bearer"
"""The security scheme's name in every service's OpenAPI."""

_bearer = HTTPBearer(
    scheme_name=SCHEME,
    auto_error=False,
    description="An access token from the identity provider; the requirement lists the realm roles admitted.",
)

EVERY_MUNICIPALITY = frozenset({Role.AUDITOR})
"""Roles that read across municipalities and companies (and change nothing)."""


class AccessRefused(Exception):
    """The caller may not do this: 401 (no valid token), 403 (wrong role or grant) or 404 (another tenant's)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def requires(*roles: Role) -> Any:
    """A route's declaration: the roles it admits (at least one); the dependency gives the calling `Principal`."""
    if not roles:
        raise ValueError("a route admits at least one role; health routes simply declare none")
    admitted = frozenset(roles)

    async def principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise AccessRefused(401, "unauthenticated", "A bearer token is required.")
        authenticator = getattr(request.app.state, "authenticator", None)
        if authenticator is None:
            raise AccessRefused(401, "unauthenticated", "This service has no way to check tokens, so it admits none.")
        try:
            found: Principal = await authenticator.authenticate(credentials.credentials)
        except Unauthenticated as exc:
            raise AccessRefused(401, exc.code, str(exc)) from None
        if not found.roles & admitted:
            log.warning("role_not_allowed", subject=found.subject, path=request.url.path, admitted=sorted(admitted))
            record_refusal = getattr(request.app.state, "record_refusal", None)
            if record_refusal is not None:
                await record_refusal(found, _route(request))
            raise AccessRefused(403, "role_not_allowed", f"This needs one of the roles {', '.join(sorted(admitted))}.")
        return found

    return Security(principal, scopes=sorted(admitted))


def _route(request: Request) -> str:
    """The method and path template of the matched route, never the path itself (it may hold a CPR number)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', '?')}"


def sees_municipality(principal: Principal, municipality: str | None) -> bool:
    """Whether `principal` may read what belongs to `municipality`: its own, or any for an auditor."""
    return bool(principal.roles & EVERY_MUNICIPALITY) or (
        principal.municipality is not None and principal.municipality == municipality
    )


def own_municipality(principal: Principal, asked: str | None) -> str | None:
    """The municipality a read is limited to: the one asked for (None: all) for an auditor, else the caller's own.

    Asking for another municipality than one's own is refused (403), not silently answered with one's own.
    """
    if principal.roles & EVERY_MUNICIPALITY:
        return asked
    if principal.municipality is None:
        raise AccessRefused(403, "municipality_missing", "Your token names no municipality.")
    if asked is not None and asked != principal.municipality:
        raise AccessRefused(403, "municipality_not_yours", "You may only read your own municipality.")
    return principal.municipality


def not_found(what: str) -> AccessRefused:
    """Another tenant's object: answered like one that does not exist, so its existence is not revealed."""
    return AccessRefused(404, "not_found", f"There is no such {what}.")


def install(app: FastAPI) -> None:
    """Answer `AccessRefused` as problem+json (401 with `WWW-Authenticate: Bearer`)."""

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccessRefused)
        response = problem(exc.status, exc.code, exc.detail)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    app.add_exception_handler(AccessRefused, refused)
