"""A relay SIGKILLed in the middle of a batch: nothing committed is lost, and the inbox absorbs the repeats."""

import asyncio
from collections import Counter
from collections.abc import Callable
from uuid import UUID

from aiokafka import AIOKafkaConsumer

from jobbro.db import create_pool, migrate
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.settings import ServiceSettings
from jobbro.testing import create_database, create_topics, read_topic, unique
from jobbro.uow import UnitOfWork
from tests.example.events import CounterChanged, ExampleTopics
from tests.example.process import Process
from tests.example.service import SQL

EVENTS = 1000


async def _end_offsets(kafka: KafkaAccess, topic: str) -> int:
    consumer = AIOKafkaConsumer(topic, **kafka.client_kwargs(), group_id=None)
    await consumer.start()
    try:
        partitions = consumer.assignment()
        return sum((await consumer.end_offsets(list(partitions))).values())
    finally:
        await consumer.stop()


async def test_relay_killed_mid_batch_loses_nothing_and_the_inbox_drops_repeats(
    infra: Infrastructure, database: str, kafka: KafkaAccess, spawn: Callable[..., Process]
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    await create_topics(kafka, topics.changes, topics.changes + ".dlq")
    _, changed = topics.bind()
    pool = await create_pool(database)
    await migrate(pool, SQL)
    committed = set()
    async with UnitOfWork(pool, "/test") as uow:
        for n in range(EVENTS):
            committed.add(uow.publish(changed(counter=f"k{n % 50}", value=n, version=n)).id)
        await uow.commit()

    env = {"JOBBRO_PG_DSN": database, **kafka.environment("JOBBRO_"), "JOBBRO_OUTBOX_BATCH_SIZE": "200"}
    slow = spawn("tests.example.relay", {**env, "EXAMPLE_SEND_DELAY": "0.005"}, "slow-relay")
    try:
        # kill once records are on the topic that the relay has not yet deleted from the outbox: mid-batch
        for _ in range(600):
            on_topic = await _end_offsets(kafka, topics.changes)
            left = await pool.fetchval("SELECT count(*) FROM outbox")
            if on_topic > EVENTS - left:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("never saw the relay in the middle of a batch")
    finally:
        slow.kill()
    assert await pool.fetchval("SELECT count(*) FROM outbox") > 0

    spawn("tests.example.relay", env, "relay")
    records = await read_topic(kafka, topics.changes, expect=EVENTS + (on_topic - (EVENTS - left)))
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    await pool.close()

    ids = Counter(dict(r.headers)["ce_id"].decode() for r in records)
    assert {UUID(i) for i in ids} == committed  # every committed event is on the topic
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates > 0  # the batch in flight at the kill was sent again

    # a consumer with an inbox turns the repeats into one effect each
    consumer_db = await create_database(infra)
    runtime = Runtime(ServiceSettings(service="tally", pg_dsn=consumer_db, **kafka.settings()), SQL)

    async def tally(event: CounterChanged, meta, uow: UnitOfWork, _ctx: None) -> None:
        await uow.conn.execute(
            """INSERT INTO counters VALUES ($1, 1, 1) ON CONFLICT (counter) DO UPDATE
               SET value = counters.value + 1, version = counters.version + 1""",
            event.counter,
        )

    runtime.consume(topics.changes, group=unique("tally"), catalog={changed.type: changed}, handlers={changed: tally})
    await runtime.start()
    try:
        for _ in range(600):
            if await runtime.pool.fetchval("SELECT coalesce(sum(value), 0) FROM counters") >= EVENTS:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # let any repeat that would wrongly count arrive
        assert await runtime.pool.fetchval("SELECT sum(value) FROM counters") == EVENTS
        assert await runtime.pool.fetchval("SELECT count(*) FROM inbox") == EVENTS
    finally:
        await runtime.stop()
