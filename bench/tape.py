"""Every record on a stack's topics, read as it arrives: the benchmark's clock for milestones (record timestamps)
and sizes, and the chaos test's evidence of what was published, duplicates included.

Records are kept lean (headers and JSON data, not validated models), so the reader costs the machine under test
little; `Seen.data` is the event's JSON as published.
"""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from contracts.catalog import TOPICS
from jobbro.kafka_access import KafkaAccess

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Seen:
    """One record as it crossed a topic."""

    topic: str
    """The catalog name (its `.dlq` for a dead letter), without the stack's prefix."""
    partition: int
    offset: int
    timestamp: float
    """The record's timestamp (the producer's clock when the relay sent it), seconds since the epoch."""
    type: str
    id: str
    key: str
    size: int
    """Bytes of key, value and headers: what the broker carried."""
    data: dict[str, Any]
    headers: dict[str, str]

    @property
    def application_id(self) -> str | None:
        return self.data.get("application_id")


class Tape:
    """Reads every catalog topic and dead-letter topic of a namespace from its beginning, until closed."""

    def __init__(self, kafka: KafkaAccess, prefix: str, on_record: Callable[[Seen], None] = lambda _: None) -> None:
        self._kafka = kafka
        self._prefix = prefix
        self._on_record = on_record
        self._consumer = AIOKafkaConsumer(
            **kafka.client_kwargs(), group_id=None, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
        )
        self._partitions: list[TopicPartition] = []
        self._pump: asyncio.Task[None] | None = None
        self.seen: list[Seen] = []

    async def __aenter__(self) -> "Tape":
        admin = AIOKafkaAdminClient(**self._kafka.client_kwargs())
        await admin.start()
        try:
            names = [self._prefix + name for topic in TOPICS for name in (topic.name, topic.dlq)]
            described = await admin.describe_topics(names)
        finally:
            await admin.close()
        self._partitions = [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if not t["error_code"]
            for p in t["partitions"]
        ]
        await self._consumer.start()
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)
        self._pump = asyncio.create_task(self._read(), name="bench-tape")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._pump:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        await self._consumer.stop()

    async def drain(self, timeout: float = 60.0) -> None:
        """Until everything published so far has been read (positions at the end offsets)."""
        ends = await self._consumer.end_offsets(self._partitions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while [tp for tp, end in ends.items() if await self._consumer.position(tp) < end]:
            if self._pump and self._pump.done():
                self._pump.result()
            if loop.time() > deadline:
                raise TimeoutError(f"the tape did not reach the end offsets within {timeout:.0f}s")
            await asyncio.sleep(0.1)

    def of_type(self, *types: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.type in types]

    async def _read(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            except KafkaError as exc:  # the broker restarting under the chaos test: read on when it is back
                log.warning("tape_read_failed", error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                for record in records:
                    seen = self._seen(record)
                    self.seen.append(seen)
                    self._on_record(seen)

    def _seen(self, record: ConsumerRecord) -> Seen:
        headers = {name: raw.decode(errors="replace") for name, raw in record.headers}
        value = record.value or b""
        try:
            data = json.loads(value)
        except ValueError:
            data = {}
        size = len(record.key or b"") + len(value) + sum(len(name) + len(raw) for name, raw in record.headers)
        return Seen(
            topic=record.topic.removeprefix(self._prefix),
            partition=record.partition,
            offset=record.offset,
            timestamp=record.timestamp / 1000,
            type=headers.get("ce_type", ""),
            id=headers.get("ce_id", ""),
            key=(record.key or b"").decode(errors="replace"),
            size=size,
            data=data if isinstance(data, dict) else {},
            headers=headers,
        )
