"""Test helpers: throw-away databases and topic namespaces, publishing and reading topics, a running service."""

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.catalog import EVENT_TYPES
from contracts.envelope import Event, Metadata, Record, decode, encode
from contracts.provision import provision
from jobbro import db
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess

if TYPE_CHECKING:
    from jobbro.runtime import Runtime


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


def encodings(secret: str) -> list[str]:
    """How `secret` can show in a row's text: as is, as hex (a bytea), or base64 / base64url inside a longer
    encoded value (a JWS payload) at each of the three alignments."""
    raw = secret.encode()
    found = [secret, raw.hex()]
    for offset in range(3):
        start, end = -(-8 * offset // 6), (8 * offset + 8 * len(raw)) // 6
        for to_base64 in (base64.b64encode, base64.urlsafe_b64encode):
            found.append(to_base64(b"\0" * offset + raw).decode()[start:end])
    return found


async def tables_holding(conn: asyncpg.Connection, secret: str) -> list[str]:
    """The tables of the database (every schema but the system's) one of whose rows' text holds `secret` in any of
    its `encodings`: a search of every stored value, as a dump of the database would show it."""
    forms = encodings(secret)
    tables = await conn.fetch(
        """SELECT table_schema, table_name FROM information_schema.tables
           WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
    )
    holding = []
    for schema, table in tables:
        rows = await conn.fetch(f'SELECT t::text AS row FROM "{schema}"."{table}" t')
        if any(form in row["row"] for row in rows for form in forms):
            holding.append(f"{schema}.{table}")
    return holding


async def create_topics(kafka: KafkaAccess, *names: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        for name in names:
            try:
                await admin.create_topics([NewTopic(name, partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def read_topic(kafka: KafkaAccess, topic: str, *, expect: int, timeout: float = 60.0) -> list[ConsumerRecord]:
    """Read a topic from the beginning until `expect` records arrived (or the timeout), then a little longer.

    The extra read lets a test see records beyond what it expected (duplicates, stray events).
    """
    consumer = AIOKafkaConsumer(
        topic, **kafka.client_kwargs(), enable_auto_commit=False, auto_offset_reset="earliest", group_id=None
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


async def read_namespace(kafka: KafkaAccess, prefix: str) -> list[ConsumerRecord]:
    """Every record now on every topic of a namespace (dead-letter topics too), undecoded, as any reader sees it.

    Read up to the end offsets taken first, so nothing written meanwhile is waited for and nothing before is missed.
    """
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        topics = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [part for part, end in ends.items() if await consumer.position(part) < end]:
            for part in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


async def produce(
    kafka: KafkaAccess, *records: Record | tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
) -> None:
    """Send records as an outside producer would: envelope `Record`s, or raw (topic, key, value, headers)."""
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True)
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


async def provisioned_prefix(kafka: KafkaAccess) -> str:
    """A fresh topic namespace holding every catalog topic and its dead-letter topic, with the catalog's ACLs."""
    prefix = unique("t") + "."
    await provision(kafka, prefix=prefix)
    return prefix


async def publish(
    kafka: KafkaAccess, prefix: str, *events: Event, source: str = "/test", cause: Metadata | None = None
) -> list[Metadata]:
    """Publish catalog events as their producer would (CloudEvents headers, keyed), within `prefix`."""
    wrapped = [encode(event, source=source, cause=cause) for event in events]
    await produce(kafka, *(replace(record, topic=prefix + record.topic) for _, record in wrapped))
    return [meta for meta, _ in wrapped]


async def read_events(
    kafka: KafkaAccess, topic: str, *, expect: int, timeout: float = 60.0
) -> list[tuple[Metadata, Event]]:
    """Read and decode a (prefixed) catalog topic from the beginning; see `read_topic` for the waiting."""
    records = await read_topic(kafka, topic, expect=expect, timeout=timeout)
    return [decode(r.headers, r.value, EVENT_TYPES) for r in records]


@asynccontextmanager
async def rolled_back(dsn: str, sql_dir: Path) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the database `dsn` migrated with a service's `sql_dir`, in a transaction that rolls back: where
    a store's contract suite runs on PostgreSQL."""
    pool = await db.create_pool(dsn, 1)
    try:
        await db.migrate(pool, sql_dir)
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield conn
            finally:
                await transaction.rollback()
    finally:
        await pool.close()


@asynccontextmanager
async def running(runtime: "Runtime") -> AsyncIterator["Runtime"]:
    """A service's runtime started in this process (migrated, consuming, relaying), stopped afterwards."""
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


S = TypeVar("S")


class InMemoryWork(Generic[S]):
    """The unit-of-work port (`jobbro.uow.Work`) without a database: a handler's unit tests read what it published
    (`events`), what its store then holds, and what it would do once committed (`callbacks`)."""

    def __init__(self, store: S, source: str = "test") -> None:
        self.store = store
        self.source = source
        self.events: list[Event] = []
        self.callbacks: list[Callable[[], None]] = []

    def publish(self, event: Event) -> Metadata:
        self.events.append(event)
        meta, _record = encode(event, source=self.source)
        return meta

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)
