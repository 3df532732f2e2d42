"""Session fixtures: a real Kafka and PostgreSQL (never mocks); a test that cannot reach them fails."""

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from jobbro.infra import Infrastructure, InfrastructureUnavailable, infrastructure
from jobbro.principal import Authenticator
from jobbro.stack import delete_namespace
from jobbro.testing import create_database, drop_database, provisioned_prefix
from tests.identity import Callers, TokenBook, TokenFor

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
def kafka_bootstrap(infra: Infrastructure) -> str:
    return infra.kafka_bootstrap


@pytest.fixture
async def database(infra: Infrastructure) -> AsyncIterator[str]:
    """DSN of a new, empty database, dropped after the test."""
    dsn = await create_database(infra)
    yield dsn
    await drop_database(infra, dsn)


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A fresh namespace with every catalog topic (and its .dlq): services under test see only their events."""
    prefix = await provisioned_prefix(kafka_bootstrap)
    yield prefix
    await delete_namespace(kafka_bootstrap, prefix)


@pytest.fixture(scope="session")
def token_book() -> TokenBook:
    return TokenBook()


@pytest.fixture(scope="session")
def authenticator(token_book: TokenBook) -> Authenticator:
    """What services under test check bearer tokens with (`create_app(..., authenticator=...)`)."""
    return token_book


@pytest.fixture(scope="session")
def token_for(token_book: TokenBook) -> TokenFor:
    """`token_for(*roles, cvr=None, municipality=None, event_types=(), subject=None)`: a token `authenticator`
    accepts, naming a principal with those roles and claims. The one seam to swap for real identity-provider tokens."""
    return token_book.issue


@pytest.fixture(scope="session")
def callers(token_for: TokenFor) -> Callers:
    """Authorization headers for employers, caseworkers, managers, auditors, operators and integrators."""
    return Callers(token_for)
