"""Session fixtures: a real Kafka and PostgreSQL (never mocks); a test that cannot reach them fails."""

from collections.abc import AsyncIterator, Iterator

import pytest

from jobbro.testing import Infrastructure, InfrastructureUnavailable, create_database, drop_database, infrastructure


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
