"""Session fixtures: a real Kafka and PostgreSQL (never mocks); a test that cannot reach them fails."""

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from demo.logins import IdentityProviderMissing, local_issuer
from jobbro.infra import Infrastructure, InfrastructureUnavailable, infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import create_database, drop_database, provisioned_prefix
from jobbroctl.stack import delete_namespace
from tests.identity import Callers, TokenFor
from tests.keycloak import RealmUsers

# Tests run in development (the development keys, loopback webhook receivers); a process not told so is in
# production. Set before any settings are built, and inherited by the processes tests start.
os.environ["JOBBRO_ENVIRONMENT"] = "development"


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    try:
        with infrastructure() as found:
            yield found
    except InfrastructureUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def kafka(infra: Infrastructure) -> KafkaAccess:
    return infra.kafka


@pytest.fixture(scope="session")
def oidc_issuer() -> str:
    """The real development Keycloak's issuer (`JOBBRO_OIDC_ISSUER`, else deploy/local/keycloak); fails if absent."""
    try:
        return local_issuer()
    except IdentityProviderMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def realm_users(oidc_issuer: str) -> Iterator[RealmUsers]:
    """Real Keycloak tokens for any roles and claims (`realm_users.issue(Role.CASEWORKER, municipality="751")`)."""
    users = RealmUsers(oidc_issuer)
    yield users
    users.close()


@pytest.fixture
async def database(infra: Infrastructure) -> AsyncIterator[str]:
    """DSN of a new, empty database, dropped after the test."""
    dsn = await create_database(infra)
    yield dsn
    await drop_database(infra, dsn)


@pytest.fixture
async def topic_prefix(kafka: KafkaAccess) -> AsyncIterator[str]:
    """A fresh namespace with every catalog topic (and its .dlq): services under test see only their events."""
    prefix = await provisioned_prefix(kafka)
    yield prefix
    await delete_namespace(kafka, prefix)


@pytest.fixture(scope="session")
def authenticator() -> Authenticator | None:
    """What services under test check bearer tokens with (`create_app(..., authenticator=...)`): None, so each uses
    its default, the real development Keycloak's tokens checked through its discovery document and JWKS."""
    return None


@pytest.fixture(scope="session")
def token_for(realm_users: RealmUsers) -> TokenFor:
    """`token_for(*roles, cvr=None, municipality=None, event_types=(), subject=None)`: a real Keycloak access token
    of a realm user holding those roles and claims (made on first use)."""
    return realm_users.issue


@pytest.fixture(scope="session")
def callers(token_for: TokenFor) -> Callers:
    """Authorization headers for employers, caseworkers, managers, auditors, operators and integrators."""
    return Callers(token_for)
