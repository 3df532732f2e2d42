"""Session fixtures: a real Kafka and PostgreSQL (never mocks); a test that cannot reach them fails."""

from collections.abc import AsyncIterator, Iterator

import pytest

from jobbro.infra import Infrastructure, InfrastructureUnavailable, infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.stack import delete_namespace
from jobbro.testing import create_database, drop_database, provisioned_prefix


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
