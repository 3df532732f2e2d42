"""Test helpers: find a real Kafka and PostgreSQL, make throw-away databases and topics, read topics back.

Where the infrastructure comes from, first match wins: environment variables naming running instances
(`JOBBRO_KAFKA_BOOTSTRAP`, `JOBBRO_PG_SERVER`), containers when a Docker engine answers, else the project's own
launcher (`deploy/local/infra up`: Kafka from Maven Central, PostgreSQL from Debian).
"""

import asyncio
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.catalog import EVENT_TYPES
from contracts.envelope import Event, Metadata, Record, decode, encode
from contracts.provision import provision

if TYPE_CHECKING:
    from jobbro.runtime import Runtime

REPO = Path(__file__).resolve().parent.parent


class InfrastructureUnavailable(RuntimeError):
    """Kafka or PostgreSQL cannot be reached: tests must fail, never skip."""


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    pg_dsn: str
    """DSN of the server, without a database name."""
    origin: str

    def database_dsn(self, database: str) -> str:
        return f"{self.pg_dsn.rstrip('/')}/{database}"


@contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    """Yield reachable Kafka and PostgreSQL, started here if need be (containers are stopped afterwards)."""
    env = os.environ
    if env.get("JOBBRO_KAFKA_BOOTSTRAP") and env.get("JOBBRO_PG_SERVER"):
        yield _checked(Infrastructure(env["JOBBRO_KAFKA_BOOTSTRAP"], env["JOBBRO_PG_SERVER"], "environment"))
    elif _docker_answers():
        with _containers() as infra:
            yield _checked(infra)
    else:
        yield _checked(_local_launcher())


def _docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def _containers() -> Iterator[Infrastructure]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka, PostgresContainer(
        "postgres:15", username="jobbro", password="jobbro", driver=None
    ) as pg:
        dsn = f"postgresql://jobbro:jobbro@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}"
        yield Infrastructure(kafka.get_bootstrap_server(), dsn, "testcontainers")


def _local_launcher() -> Infrastructure:
    launcher = REPO / "deploy" / "local" / "infra"
    up = subprocess.run([str(launcher), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        raise InfrastructureUnavailable(f"deploy/local/infra up failed:\n{up.stderr[-3000:]}")
    exports = subprocess.run([str(launcher), "env"], capture_output=True, text=True, check=True).stdout
    values = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in exports.splitlines())
    return Infrastructure(values["JOBBRO_KAFKA_BOOTSTRAP"], values["JOBBRO_PG_SERVER"], "deploy/local/infra")


def _checked(infra: Infrastructure) -> Infrastructure:
    async def check() -> None:
        conn = await asyncpg.connect(infra.database_dsn("postgres"), timeout=10)
        await conn.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap, request_timeout_ms=10000)
        await admin.start()
        try:
            await admin.describe_cluster()
        finally:
            await admin.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        raise InfrastructureUnavailable(f"{infra.origin}: Kafka or PostgreSQL unreachable: {exc!r}") from exc
    return infra


def unique(prefix: str) -> str:
    """A name no other test (or earlier run) uses: tests never clean up by truncating."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_database(infra: Infrastructure) -> str:
    """A fresh, empty database; return its DSN."""
    name = unique("t")
    conn = await asyncpg.connect(infra.database_dsn("postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return infra.database_dsn(name)


async def drop_database(infra: Infrastructure, dsn: str) -> None:
    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(infra.database_dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_topics(bootstrap: str, *names: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for name in names:
            try:
                await admin.create_topics([NewTopic(name, partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 60.0) -> list[ConsumerRecord]:
    """Read a topic from the beginning until `expect` records arrived (or the timeout), then a little longer.

    The extra read lets a test see records beyond what it expected (duplicates, stray events).
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: list[ConsumerRecord] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while loop.time() < (settle_until or deadline):
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
            if settle_until is None and len(records) >= expect:
                settle_until = loop.time() + 1.0
        return records
    finally:
        await consumer.stop()



async def produce(bootstrap: str, *records: Record | tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]) -> None:
    """Send records as an outside producer would: envelope `Record`s, or raw (topic, key, value, headers)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for record in records:
            if isinstance(record, Record):
                headers = [(name, value.encode()) for name, value in record.headers.items()]
                record = (record.topic, record.key.encode(), record.value, headers)
            topic, key, value, headers = record
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def provisioned_prefix(bootstrap: str) -> str:
    """A fresh topic namespace holding every catalog topic and its dead-letter topic."""
    prefix = unique("t") + "."
    await provision(bootstrap, prefix=prefix)
    return prefix


async def publish(
    bootstrap: str, prefix: str, *events: Event, source: str = "/test", cause: Metadata | None = None
) -> list[Metadata]:
    """Publish catalog events as their producer would (CloudEvents headers, keyed), within `prefix`."""
    wrapped = [encode(event, source=source, cause=cause) for event in events]
    await produce(bootstrap, *(replace(record, topic=prefix + record.topic) for _, record in wrapped))
    return [meta for meta, _ in wrapped]


async def read_events(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 60.0
) -> list[tuple[Metadata, Event]]:
    """Read and decode a (prefixed) catalog topic from the beginning; see `read_topic` for the waiting."""
    records = await read_topic(bootstrap, topic, expect=expect, timeout=timeout)
    return [decode(r.headers, r.value, EVENT_TYPES) for r in records]


@asynccontextmanager
async def running(runtime: "Runtime") -> AsyncIterator["Runtime"]:
    """A service's runtime started in this process (migrated, consuming, relaying), stopped afterwards."""
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
