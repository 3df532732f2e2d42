"""The benefits service on real Kafka and PostgreSQL: settings on a fresh database and topic namespace."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
import httpx
import pytest

from jobbro import db
from jobbro.infra import Infrastructure
from jobbro.principal import Authenticator
from jobbro.pseudonym import citizen_ref
from jobbro.runtime import Runtime
from jobbro.testing import running
from jobbro.uow import UnitOfWork
from services.benefits import handlers
from services.benefits.app import SQL, create_app, create_context, create_runtime
from services.benefits.handlers import Context
from services.benefits.registry import ImportFormat, parse
from services.benefits.settings import BenefitsSettings
from services.benefits.store import PgBenefits
from tests.benefits.events import PSEUDONYM_KEY


@pytest.fixture
def settings(database: str, infra: Infrastructure, topic_prefix: str) -> BenefitsSettings:
    """As the benefits principal: whatever the service does on Kafka, its ACLs must allow."""
    return BenefitsSettings(
        pg_dsn=database,
        **infra.kafka_as("benefits").settings(),
        topic_prefix=topic_prefix,
        pseudonym_key=PSEUDONYM_KEY,
        outbox_poll_seconds=0.1,
        retry_base_seconds=0.05,
    )


@pytest.fixture
def ctx(settings: BenefitsSettings) -> Context:
    return create_context(settings)


@pytest.fixture
async def pool(settings: BenefitsSettings) -> AsyncIterator[asyncpg.Pool]:
    """The service's database, migrated, without the service running (as the commands see it)."""
    pool = await db.create_pool(settings.pg_dsn, 4)
    await db.migrate(pool, SQL)
    yield pool
    await pool.close()


@pytest.fixture
async def service(settings: BenefitsSettings, ctx: Context) -> AsyncIterator[Runtime]:
    """The service in this process: migrated, consuming, relaying its outbox."""
    async with running(create_runtime(settings, ctx)) as runtime:
        yield runtime


@pytest.fixture
def http(
    settings: BenefitsSettings, service: Runtime[Context], authenticator: Authenticator
) -> Callable[..., httpx.AsyncClient]:
    """`http(headers)`: a client of the running service's HTTP API (its lifespan not run: the service already is)."""
    app = create_app(settings, service, authenticator=authenticator)

    def client(headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://benefits", headers=headers)

    return client


def unit_of_work(pool: asyncpg.Pool, ctx: Context) -> UnitOfWork:
    """A unit of work on benefits' database with its store, as the commands beside the service open one."""
    return UnitOfWork(pool, "/test", store=partial(PgBenefits, keys=ctx.data_keys))


async def register(pool: asyncpg.Pool, ctx: Context, *rows: dict[str, Any]) -> list[str]:
    """Import citizens as the CLI would; return their citizen references."""
    async with unit_of_work(pool, ctx) as uow:
        await handlers.import_citizens(parse(json.dumps(rows).encode(), ImportFormat.JSON), "test", uow, ctx)
        await uow.commit()
    return [citizen_ref(row["cpr"], PSEUDONYM_KEY) for row in rows]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll until `check` returns something truthy; fail with its last value after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        await asyncio.sleep(0.1)
    return value
