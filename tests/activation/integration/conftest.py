"""The activation service running in the test's process on real Kafka and PostgreSQL, with its read API."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from contracts.activation import TOPIC
from contracts.envelope import Event, Metadata
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish, read_events, running
from services.activation.app import create_app, create_context, create_runtime
from services.activation.settings import ActivationSettings
from tests.identity import Callers


@dataclass
class Activation:
    """Feed the service, wait until it has handled what it was fed, and read what it published."""

    settings: ActivationSettings
    http: httpx.AsyncClient
    """A client with an auditor's token: reads every municipality."""
    app: FastAPI

    def client(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """Another caller of the same API (no headers: anonymous)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://activation", headers=headers
        )

    async def publish(self, *events: Event) -> list[Metadata]:
        return await publish(self.settings.kafka, self.settings.topic_prefix, *events)

    async def wait_handled(self, count: int, timeout: float = 60.0) -> None:
        """Until `count` distinct events are in the inbox: handled and committed."""
        for _ in range(int(timeout / 0.1)):
            if await self.fetchval("SELECT count(*) FROM inbox") >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{await self.fetchval('SELECT count(*) FROM inbox')} events handled, expected {count}")

    async def published(self, expect: int) -> list[Event]:
        """The plan events on the service's topic (waiting for `expect`, then a moment for strays)."""
        found = await read_events(self.settings.kafka, self.settings.topic_prefix + TOPIC, expect=expect)
        return [event for _, event in found]

    async def fetchval(self, sql: str, *args: object) -> object:
        conn = await asyncpg.connect(self.settings.pg_dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()


@pytest.fixture
async def activation(
    database: str, kafka: KafkaAccess, topic_prefix: str, authenticator: Authenticator, callers: Callers
) -> AsyncIterator[Activation]:
    settings = ActivationSettings(
        pg_dsn=database,
        **kafka.settings(),
        topic_prefix=topic_prefix,
        outbox_poll_seconds=0.1,
        retry_base_seconds=0.05,
    )
    runtime = create_runtime(settings, create_context(settings))
    api = create_app(settings, runtime, authenticator=authenticator)
    async with (
        running(runtime),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api), base_url="http://activation", headers=callers.auditor()
        ) as http,
    ):
        yield Activation(settings, http, api)
