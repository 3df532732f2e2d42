"""The transactional outbox on real PostgreSQL and Kafka."""

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import pytest

from jobbro import tracing
from jobbro.db import create_pool, migrate
from jobbro.kafka import create_broker, outbox_publisher
from jobbro.kafka_access import KafkaAccess
from jobbro.outbox import COPY_FROM, NOTIFY_CHANNEL, OutboxRelay
from jobbro.settings import ServiceSettings
from jobbro.testing import create_topics, read_topic, unique
from jobbro.uow import UnitOfWork
from tests.example.events import ExampleTopics
from tests.example.service import SQL
from tests.tracing import recording, traceparent_ids


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, size=12)
    await migrate(pool, SQL)
    yield pool
    await pool.close()


async def _bump(pool: asyncpg.Pool, changed: type, counter: str, *, commit: bool) -> UUID:
    """One transaction in the services' style: lock the aggregate's row, change it, announce it; maybe roll back."""
    async with UnitOfWork(pool, "/test") as uow:
        row = await uow.conn.fetchrow(
            """INSERT INTO counters VALUES ($1, 1, 1) ON CONFLICT (counter) DO UPDATE
               SET value = counters.value + 1, version = counters.version + 1 RETURNING value, version""",
            counter,
        )
        meta = uow.publish(changed(counter=counter, value=row["value"], version=row["version"]))
        await asyncio.sleep(random.random() / 200)  # hold the lock a little: transactions interleave
        if commit:
            await uow.commit()
    return meta.id


@pytest.mark.parametrize("relays", [1, 3], ids=["one relay", "relays of three replicas"])
async def test_publishes_every_committed_event_in_order_per_key_and_none_rolled_back(
    pool: asyncpg.Pool, kafka: KafkaAccess, relays: int
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes, partitions=3)
    _, changed = topics.bind()
    brokers = [create_broker(ServiceSettings(service="test", **kafka.settings())) for _ in range(relays)]
    await asyncio.gather(*(broker.connect() for broker in brokers))
    running = [
        asyncio.create_task(OutboxRelay(pool, outbox_publisher(broker), batch_size=50, poll_seconds=0.1).run())
        for broker in brokers  # each its own producer, as each replica of a service has
    ]
    committed: set[UUID] = set()
    rolled_back: set[UUID] = set()

    async def writer(n: int) -> None:
        for i in range(40):
            commit = (n + i) % 7 != 0
            event_id = await _bump(pool, changed, f"k{random.randrange(6)}", commit=commit)
            (committed if commit else rolled_back).add(event_id)

    try:
        await asyncio.gather(*(writer(n) for n in range(8)))
        records = await read_topic(kafka, topics.changes, expect=len(committed))
    finally:
        for relay in running:
            relay.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await asyncio.gather(*(broker.stop() for broker in brokers))

    published = [UUID(dict(r.headers)["ce_id"].decode()) for r in records]
    assert rolled_back and not rolled_back & set(published)
    assert sorted(published) == sorted(committed)  # all of them, each once
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    versions: dict[str, list[int]] = defaultdict(list)
    for record in records:  # one key is on one partition, read in offset order
        versions[record.key.decode()].append(json.loads(record.value)["version"])
    for counter, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), counter


async def test_a_record_the_broker_will_never_take_is_set_aside_and_the_rows_behind_it_go_out(
    pool: asyncpg.Pool, kafka: KafkaAccess
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes)
    _, changed = topics.bind()
    async with UnitOfWork(pool, "/test") as uow:
        too_large = uow.publish(changed(counter="x" * 2_000_000, value=1, version=1))  # over the 1 MiB limit
        behind = uow.publish(changed(counter="c", value=1, version=1))
        await uow.commit()
    broker = create_broker(ServiceSettings(service="test", **kafka.settings()))
    await broker.connect()
    relay = OutboxRelay(pool, outbox_publisher(broker), batch_size=50, poll_seconds=0.1)
    try:
        assert await relay.publish_batch() == 2
        records = await read_topic(kafka, topics.changes, expect=1)
    finally:
        await broker.stop()

    assert [UUID(dict(r.headers)["ce_id"].decode()) for r in records] == [behind.id]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    rejected = await pool.fetchrow("SELECT event_id, topic, length(value) AS size, error FROM outbox_rejected")
    assert rejected["event_id"] == too_large.id and rejected["topic"] == topics.changes
    assert rejected["size"] > 2_000_000 and "MessageSizeTooLarge" in rejected["error"]


@asynccontextmanager
async def _listening(pool: asyncpg.Pool) -> AsyncIterator[asyncio.Queue[str]]:
    """The channels notified while inside, as a relay listening would hear them."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(_conn: object, _pid: int, channel: str, _payload: str) -> None:
        heard.put_nowait(channel)

    listener = await pool.acquire()
    await listener.add_listener(NOTIFY_CHANNEL, hear)
    try:
        yield heard
    finally:
        await listener.remove_listener(NOTIFY_CHANNEL, hear)
        await pool.release(listener)


async def test_a_commit_with_outbox_rows_wakes_a_listening_relay(pool: asyncpg.Pool) -> None:
    async with _listening(pool) as heard:
        _, changed = ExampleTopics(commands=unique("unused"), changes=unique("changes")).bind()
        async with UnitOfWork(pool, "/test") as uow:
            uow.publish(changed(counter="c", value=1, version=1))
            await uow.commit()
        assert await asyncio.wait_for(heard.get(), 30) == NOTIFY_CHANNEL


async def test_a_relayed_record_carries_its_correlation_in_ce_correlationid_alone(
    pool: asyncpg.Pool, kafka: KafkaAccess
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes)
    _, changed = topics.bind()
    async with UnitOfWork(pool, "/test") as uow:
        first = uow.publish(changed(counter="c", value=1, version=1))
        await uow.commit()
    async with UnitOfWork(pool, "/test", cause=first) as uow:
        second = uow.publish(changed(counter="c", value=2, version=2))
        await uow.commit()
    broker = create_broker(ServiceSettings(service="test", **kafka.settings()))
    await broker.connect()
    try:
        assert await OutboxRelay(pool, outbox_publisher(broker), batch_size=50, poll_seconds=0.1).publish_batch() == 2
        records = await read_topic(kafka, topics.changes, expect=2)
    finally:
        await broker.stop()

    headers = [{name: value.decode() for name, value in record.headers} for record in records]
    assert [h["ce_correlationid"] for h in headers] == [str(first.id), str(first.id)]
    assert headers[1]["ce_causationid"] == str(first.id) and headers[1]["ce_id"] == str(second.id)
    assert all(name.startswith("ce_") or name == "content-type" for h in headers for name in h)


async def test_the_traceparent_is_stored_with_the_row_and_sent_as_the_ce_traceparent_header(
    pool: asyncpg.Pool, kafka: KafkaAccess
) -> None:
    recording()
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes)
    _, changed = topics.bind()
    with tracing.tracer().start_as_current_span("POST /counters") as span:
        async with UnitOfWork(pool, "/test") as uow:
            uow.publish(changed(counter="c", value=1, version=1))
            await uow.commit()
    traceparent = tracing.current_traceparent() or ""  # outside the span: none
    ids = span.get_span_context()

    stored = await pool.fetchval("SELECT headers->>'ce_traceparent' FROM outbox")
    assert traceparent == "" and traceparent_ids(stored) == (ids.trace_id, ids.span_id)
    broker = create_broker(ServiceSettings(service="test", **kafka.settings()))
    await broker.connect()
    try:
        assert await OutboxRelay(pool, outbox_publisher(broker), batch_size=50, poll_seconds=0.1).publish_batch() == 1
        [record] = await read_topic(kafka, topics.changes, expect=1)
    finally:
        await broker.stop()
    assert dict(record.headers)["ce_traceparent"].decode() == stored


async def test_a_large_batch_is_copied_in_wakes_the_relay_and_goes_out_like_inserted_rows(
    pool: asyncpg.Pool, kafka: KafkaAccess
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes)
    _, changed = topics.bind()
    async with _listening(pool) as heard:
        async with UnitOfWork(pool, "/test") as uow:
            sent = [uow.publish(changed(counter="c", value=n, version=n)) for n in range(1, COPY_FROM + 2)]
            await uow.commit()
        assert await asyncio.wait_for(heard.get(), 30) == NOTIFY_CHANNEL  # the statement trigger fires on COPY too
    broker = create_broker(ServiceSettings(service="test", **kafka.settings()))
    await broker.connect()
    try:
        relay = OutboxRelay(pool, outbox_publisher(broker), batch_size=500, poll_seconds=0.1)
        assert await relay.publish_batch() == len(sent)
        records = await read_topic(kafka, topics.changes, expect=len(sent))
    finally:
        await broker.stop()

    headers = [{name: value.decode() for name, value in record.headers} for record in records]
    assert [h["ce_id"] for h in headers] == [str(meta.id) for meta in sent]
    assert [h["ce_correlationid"] for h in headers] == [str(meta.correlation_id) for meta in sent]
    assert [json.loads(record.value)["value"] for record in records] == list(range(1, COPY_FROM + 2))
