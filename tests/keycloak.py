"""Real tokens for any caller a test needs: users made on demand in the development Keycloak's realm `jobbro`.

The realm's fixed development users (demo/logins.py) cover the demo; tests need employers of random CVR numbers
(each with its own test certificate), caseworkers of any municipality, integrators with any grant. `RealmUsers`
creates such a user through Keycloak's admin REST API the first time it is asked for, then logs in as it with the
password grant of the public client, exactly as the demo does. The services under test check these tokens with
their default authenticator (`jobbro.auth.OidcAuthenticator`): nothing is faked.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

import httpx

from demo import logins
from jobbro.principal import Role

_ADMIN = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"}
"""The bootstrap administrator of the DEVELOPMENT Keycloak (deploy/local/keycloak)."""
_RENEW_BEFORE_SECONDS = 20.0


class RealmUsers:
    """Users of the realm made on demand, and fresh access tokens for them; `close` deletes what it made."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        server, self._realm = issuer.rsplit("/realms/", 1)
        self._admin_url = f"{server}/admin/realms/{self._realm}"
        self._admin_token_url = f"{server}/realms/master/protocol/openid-connect/token"
        self._http = httpx.Client(timeout=30)
        self._admin: tuple[str, float] = ("", 0.0)
        self._users: dict[tuple[object, ...], tuple[str, str]] = {}
        """What was asked for → (user id, user name)."""
        self._tokens: dict[str, tuple[str, float]] = {}

    def issue(
        self,
        *roles: Role,
        cvr: str | None = None,
        municipality: str | None = None,
        event_types: Iterable[str] = (),
        subject: str | None = None,
    ) -> str:
        """An access token of a user holding `roles`, bound to `cvr` / `municipality` / `event_types`; the same
        `subject` (or the same roles and claims, without one) is always the same user."""
        types = tuple(sorted(event_types))
        key: tuple[object, ...] = ("subject", subject) if subject else (tuple(sorted(roles)), cvr, municipality, types)
        if key not in self._users:
            self._users[key] = self._create(roles, cvr, municipality, types)
        return self._token(self._users[key][1])

    def employer(self, cvr: str) -> dict[str, str]:
        """A user of `cvr` with the signing right."""
        return _bearer(self.issue(Role.EMPLOYER, Role.EMPLOYER_SIGNER, cvr=cvr))

    def caseworker(self, municipality: str = "751") -> dict[str, str]:
        return _bearer(self.issue(Role.CASEWORKER, municipality=municipality))

    def close(self) -> None:
        for user_id, _name in self._users.values():
            self._http.delete(f"{self._admin_url}/users/{user_id}", headers=self._admin_headers())
        self._users.clear()
        self._http.close()

    def _create(
        self, roles: Iterable[Role], cvr: str | None, municipality: str | None, event_types: tuple[str, ...]
    ) -> tuple[str, str]:
        name = f"test-{secrets.token_hex(8)}"
        attributes = {"cvr": [cvr] if cvr else [], "municipality": [municipality] if municipality else []}
        user = {
            "username": name,
            "enabled": True,
            "email": f"{name}@jobbro.example",
            "emailVerified": True,
            "firstName": "Test",
            "lastName": name,
            "attributes": {key: value for key, value in attributes.items() if value}
            | ({"event_types": list(event_types)} if event_types else {}),
            "credentials": [{"type": "password", "value": name, "temporary": False}],
        }
        headers = self._admin_headers()
        created = self._http.post(f"{self._admin_url}/users", json=user, headers=headers)
        created.raise_for_status()
        user_id = created.headers["Location"].rsplit("/", 1)[1]
        wanted = [self._http.get(f"{self._admin_url}/roles/{role.value}", headers=headers).json() for role in roles]
        if wanted:
            mappings = f"{self._admin_url}/users/{user_id}/role-mappings/realm"
            mapped = self._http.post(mappings, json=wanted, headers=headers)
            mapped.raise_for_status()
        return user_id, name

    def _token(self, username: str) -> str:
        token, renew_at = self._tokens.get(username, ("", 0.0))
        if time.monotonic() >= renew_at:
            token = logins.token_sync(self.issuer, username)
            self._tokens[username] = (token, time.monotonic() + 300 - 60)
        return token

    def _admin_headers(self) -> dict[str, str]:
        token, renew_at = self._admin
        if time.monotonic() >= renew_at:
            response = self._http.post(self._admin_token_url, data=_ADMIN)
            response.raise_for_status()
            body = response.json()
            token = body["access_token"]
            self._admin = (token, time.monotonic() + float(body["expires_in"]) - _RENEW_BEFORE_SECONDS)
        return {"Authorization": f"Bearer {token}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
