"""The raw Kafka ceiling: plain aiokafka produce → consume on the same broker, with the same durability settings.

Jobbro's event layer is measured against this: same number of records, same size, `acks=all` and idempotence,
offsets committed by a consumer group — everything but the database, the envelope and the handlers.
"""

import asyncio
import os
import time
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from jobbro.kafka_access import KafkaAccess


@dataclass(frozen=True)
class Ceiling:
    records: int
    record_bytes: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


async def measure(kafka: KafkaAccess, *, records: int, record_bytes: int, partitions: int = 3) -> Ceiling:
    """Time from the first send to the last record consumed (and its offset committed)."""
    topic = f"bench.ceiling.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
        consumer = AIOKafkaConsumer(
            topic,
            **kafka.client_kwargs(),
            group_id=topic,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True)
        await consumer.start()
        await producer.start()
        try:
            payload = os.urandom(record_bytes)
            started = time.perf_counter()
            received = asyncio.create_task(_consume(consumer, records))
            sends = [await producer.send(topic, payload, key=str(n % 1000).encode()) for n in range(records)]
            await asyncio.gather(*sends)
            await received
            return Ceiling(records, record_bytes, time.perf_counter() - started)
        finally:
            await producer.stop()
            await consumer.stop()
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def _consume(consumer: AIOKafkaConsumer, records: int) -> None:
    seen = 0
    while seen < records:
        batch = await consumer.getmany(timeout_ms=500)
        seen += sum(len(part) for part in batch.values())
        if batch:
            await consumer.commit()
