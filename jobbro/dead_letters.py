"""Dead letters for operators: list and show them, replay them to their topic after a fix, or park them.

A dead letter is resolved by replaying it (the same key, value and headers, back on the topic it came from: the
consumer group that failed handles it again, and groups that had handled it drop it by its event id in their
inbox) or by parking it with a reason (when it must never be handled). Resolution goes in order per partition, as
the records of one key went: a later dead letter of a key is never replayed before an earlier one. It is kept on
the broker beside the dead letters, as the committed offset of the operators' consumer group on the dead-letter
topic, with who, when and why in the commit's metadata; no database of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from jobbro.kafka import DLQ_HEADER_PREFIX, DLQ_SUFFIX
from jobbro.kafka_access import KafkaAccess

OPERATORS_GROUP = "jobbro-operators"
"""The consumer group whose committed offset on a dead-letter topic marks what operators have resolved."""

Action = Literal["replayed", "parked"]


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, as its consumer wrote it (`jobbro.kafka.dead_letter_headers`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    resolved: bool

    def header(self, name: str) -> str:
        return next((raw.decode(errors="replace") for key, raw in self.headers if key == name), "")

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.header(DLQ_HEADER_PREFIX + "original_topic") or self.topic.removesuffix(DLQ_SUFFIX)

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had before it failed: what a replay sends again."""
        return [(name, raw) for name, raw in self.headers if not name.startswith(DLQ_HEADER_PREFIX)]

    @property
    def failure(self) -> dict[str, str]:
        """Where it came from and why it failed, from the `dlq_*` headers (without the prefix)."""
        return {
            name.removeprefix(DLQ_HEADER_PREFIX): raw.decode(errors="replace")
            for name, raw in self.headers
            if name.startswith(DLQ_HEADER_PREFIX)
        }


@dataclass(frozen=True)
class Resolution:
    """The last resolution of one partition of a dead-letter topic: up to which offset, how, by whom, why."""

    partition: int
    through: int
    action: str
    actor: str
    reason: str
    at: str


async def read(kafka: KafkaAccess, topic: str, *, include_resolved: bool = False) -> list[DeadLetter]:
    """The dead letters of `topic` (a `.dlq` topic, with its namespace), open ones only unless asked for all."""
    partitions = await _partitions(kafka, topic)
    async with _operators(kafka) as consumer:
        return await _read(consumer, partitions, include_resolved=include_resolved)


async def resolutions(kafka: KafkaAccess, topic: str) -> list[Resolution]:
    """How each partition of `topic` was last resolved (partitions never resolved are left out)."""
    partitions = await _partitions(kafka, topic)
    async with _admin(kafka) as admin:
        committed = await admin.list_consumer_group_offsets(OPERATORS_GROUP, partitions=partitions)
    found = []
    for tp, offset in sorted(committed.items()):
        if offset.offset < 0:
            continue
        note = json.loads(offset.metadata or "{}")
        found.append(
            Resolution(
                partition=tp.partition,
                through=offset.offset - 1,
                action=note.get("action", "?"),
                actor=note.get("actor", "?"),
                reason=note.get("reason", ""),
                at=note.get("at", ""),
            )
        )
    return found


async def resolve(
    kafka: KafkaAccess, topic: str, partition: int, through: int, *, action: Action, actor: str, reason: str
) -> list[DeadLetter]:
    """Replay or park the open dead letters of one partition up to and including offset `through`, in order.

    Replayed records are acknowledged by all in-sync replicas before the resolution is committed: a crash between
    the two replays them again at the next attempt, which the consumers' inboxes make harmless.
    """
    if action == "parked" and not reason.strip():
        raise ValueError("parking a dead letter needs a reason")
    tp = TopicPartition(topic, partition)
    if tp not in await _partitions(kafka, topic):
        raise LookupError(f"{topic} has no partition {partition}")
    async with _operators(kafka) as consumer:
        letters = [letter for letter in await _read(consumer, [tp]) if letter.offset <= through]
        if not letters:
            raise LookupError(f"no open dead letter at or before offset {through} of {topic} partition {partition}")
        if action == "replayed":
            await _replay(kafka, letters)
        note = {"action": action, "actor": actor, "reason": reason, "at": datetime.now(UTC).isoformat()}
        await consumer.commit({tp: OffsetAndMetadata(letters[-1].offset + 1, json.dumps(note))})
        return letters


async def _replay(kafka: KafkaAccess, letters: list[DeadLetter]) -> None:
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for letter in letters:
            headers = [*letter.original_headers, ("replayed_from", f"{letter.topic}:{letter.position}".encode())]
            await producer.send_and_wait(letter.original_topic, letter.value, key=letter.key, headers=headers)
    finally:
        await producer.stop()


@asynccontextmanager
async def _operators(kafka: KafkaAccess) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in the operators' group that never commits by itself (only `resolve` commits)."""
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=OPERATORS_GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def _admin(kafka: KafkaAccess) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def _partitions(kafka: KafkaAccess, topic: str) -> list[TopicPartition]:
    async with _admin(kafka) as admin:
        [described] = await admin.describe_topics([topic])
    if described["error_code"] or not described["partitions"]:
        raise LookupError(f"no topic {topic}")
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])


async def _read(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], *, include_resolved: bool = False
) -> list[DeadLetter]:
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    resolved_until = {tp: (await consumer.committed(tp)) or 0 for tp in partitions}
    for tp in partitions:
        consumer.seek(tp, starts[tp] if include_resolved else max(starts[tp], resolved_until[tp]))
    records: list[ConsumerRecord] = []
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        for batch in (await consumer.getmany(*partitions, timeout_ms=1000)).values():
            records.extend(
                record for record in batch if record.offset < ends[TopicPartition(record.topic, record.partition)]
            )
    return [
        DeadLetter(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple(record.headers),
            resolved=record.offset < resolved_until[TopicPartition(record.topic, record.partition)],
        )
        for record in sorted(records, key=lambda r: (r.partition, r.offset))
    ]
