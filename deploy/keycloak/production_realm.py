"""Write the production realm (jobbro-realm.production.json) from the development one, so the two never drift.

`python deploy/keycloak/production_realm.py` after changing jobbro-realm.json (tests/deploy fails until then). It
keeps the roles, the client scope with its claims and the token lifetimes, and drops what only development may have:
the users (their password is their name), the password-grant client of the CLI and the demo, the example integrator
with its published secret, and the weak password hashing that lets tests make users quickly. The portal's secret and
address are Keycloak placeholders, filled from the environment when Keycloak imports the realm at start
(`JOBBRO_PORTAL_CLIENT_SECRET`, `JOBBRO_PORTAL_URL`); integrators' clients are registered by the operator.
"""

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEVELOPMENT = HERE / "jobbro-realm.json"
PRODUCTION = HERE / "jobbro-realm.production.json"
PORTAL_CLIENT = "jobbro-portal"
DEVELOPMENT_PORTAL_URL = "http://127.0.0.1:8100"
PASSWORD_POLICY = "length(12) and notUsername and notEmail and passwordHistory(3)"
"""Keycloak's default hashing (Argon2) stays: the development realm's single PBKDF2 iteration is for tests only."""


def production_realm(development: dict[str, Any]) -> dict[str, Any]:
    """The development realm without its development parts; the input is left as it was."""
    realm = json.loads(json.dumps(development))
    realm["displayName"] = "Jobbro"
    realm["sslRequired"] = "all"
    realm["passwordPolicy"] = PASSWORD_POLICY
    realm.pop("users", None)
    [portal] = [client for client in realm["clients"] if client["clientId"] == PORTAL_CLIENT]
    portal["secret"] = "${JOBBRO_PORTAL_CLIENT_SECRET}"
    realm["clients"] = [json.loads(json.dumps(portal).replace(DEVELOPMENT_PORTAL_URL, "${JOBBRO_PORTAL_URL}"))]
    return realm


def render(realm: dict[str, Any]) -> str:
    return json.dumps(realm, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    PRODUCTION.write_text(render(production_realm(json.loads(DEVELOPMENT.read_text()))))
    print(f"wrote {PRODUCTION}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
