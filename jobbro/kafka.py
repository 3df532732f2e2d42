"""Kafka: a safe broker, and consumers that handle each event effectively once or dead-letter it.

FastStream and aiokafka default to `acks=1`, no idempotence and acknowledging a message before it is handled.
Here the producer waits for all in-sync replicas and is idempotent, and every subscriber commits its offset only
after the handler's transaction (inbox claim + state + outbox rows) has committed, or after a poison record has
been written to the dead-letter topic. A transient failure that outlasts the retries leaves the offset where it
was (the record is sought back and redelivered), so nothing is skipped while PostgreSQL or Kafka is down.
"""

import asyncio
import dataclasses
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from contracts.envelope import EnvelopeError, Event, Metadata, decode
from jobbro import inbox
from jobbro import log as logs
from jobbro.outbox import Publish
from jobbro.retry import is_transient, with_retries
from jobbro.settings import ServiceSettings
from jobbro.uow import UnitOfWork

log = structlog.get_logger(__name__)

DLQ_SUFFIX = ".dlq"
EventHandler = Callable[[Any, Metadata, UnitOfWork], Awaitable[None]]
"""Records the effects of one event in the unit of work; the consumer commits it."""


def create_broker(settings: ServiceSettings) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for acks from all in-sync replicas."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        client_id=settings.service,
        graceful_timeout=15.0,
        logger=logging.getLogger("faststream.jobbro"),  # propagates to the root handler: redacted, JSON
        log_level=logging.DEBUG,  # "Received"/"Processed" per message is debug detail, not operations news
    )


def outbox_publisher(broker: KafkaBroker, topic_prefix: str = "") -> Publish:
    """The relay's way to send: without waiting, so a batch is pipelined; the returned future is the ack."""

    async def publish(topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        return await broker.publish(
            value, topic=topic_prefix + topic, key=key.encode(), headers=dict(headers), no_confirm=True
        )

    return publish


def dead_letter_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


async def _tolerant_parse(record: ConsumerRecord, original: Callable[[ConsumerRecord], Awaitable[Any]]) -> Any:
    """Parse a record whose header values are not UTF-8 too: FastStream decodes every header before `handle`
    runs and would drop such a record unhandled; `handle` still sees the original bytes and dead-letters it."""
    try:
        return await original(record)
    except UnicodeDecodeError:
        escaped = [(name, value.decode("utf-8", "backslashreplace").encode()) for name, value in record.headers]
        message = await original(dataclasses.replace(record, headers=escaped))
        message.raw_message = record
        return message


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    """Leave the body undecoded: FastStream's JSON decoding would fail on a poison record before it can be
    dead-lettered, and the ack policy would then redeliver it forever."""
    return message.body


class EventConsumer:
    """One consumer group reading one topic: decodes CloudEvents and routes each event type to its handler."""

    def __init__(
        self,
        *,
        group: str,
        topic: str,
        catalog: Mapping[str, type[Event]],
        handlers: Mapping[type[Event], EventHandler],
        unit_of_work: Callable[[Metadata], UnitOfWork],
        broker: KafkaBroker,
        settings: ServiceSettings,
    ) -> None:
        self.group = group
        self.topic = topic
        self._catalog = catalog
        self._handlers = handlers
        self._unit_of_work = unit_of_work
        self._broker = broker
        self._settings = settings

    def subscribe(self) -> None:
        """Register with the broker: offsets are committed after `handle` returns, sought back if it raises."""

        @self._broker.subscriber(
            self.topic,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            title=f"{self.group}:{self.topic}",
            parser=_tolerant_parse,
            decoder=_raw_body,
        )
        async def _on_record(message: KafkaMessage) -> None:
            await self.handle(message.raw_message)

    async def handle(self, record: ConsumerRecord) -> None:
        """Handle one record; return normally once its effects are durable or it is dead-lettered."""
        try:
            if len(record.value or b"") > self._settings.max_record_bytes:
                raise EnvelopeError(f"record of {len(record.value)} bytes exceeds {self._settings.max_record_bytes}")
            meta, event = decode(record.headers, record.value, self._catalog)
        except EnvelopeError as exc:
            await self._dead_letter(record, exc)
            return
        handler = self._handlers.get(type(event))
        if handler is None:
            return  # a catalogued event this consumer has no interest in
        causation = str(meta.causation_id) if meta.causation_id else None
        logs.bind_message(str(meta.id), str(meta.correlation_id), causation)
        try:
            await with_retries(
                lambda: self._apply(handler, event, meta),
                attempts=self._settings.retry_attempts,
                base_seconds=self._settings.retry_base_seconds,
                what=meta.type,
            )
        except Exception as exc:
            if is_transient(exc):
                log.error("event_redelivery", error=repr(exc))
                await asyncio.sleep(self._settings.retry_base_seconds * 2**self._settings.retry_attempts)
                raise
            log.exception("event_failed", event_type=meta.type)
            await self._dead_letter(record, exc)
        finally:
            logs.unbind_message()

    async def _apply(self, handler: EventHandler, event: Event, meta: Metadata) -> None:
        async with self._unit_of_work(meta) as uow:
            if not await inbox.claim(uow.conn, self.group, meta.id):
                log.info("event_duplicate_ignored", event_type=meta.type)
                return
            await handler(event, meta, uow)
            await uow.commit()

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> None:
        headers = {name: raw.decode("utf-8", "backslashreplace") for name, raw in record.headers}
        headers |= {
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_consumer_group": self.group,
            "dlq_error_class": type(exc).__name__,
            "dlq_error_message": logs.redact(str(exc))[:2000],
            "dlq_error_trace": logs.redact("".join(traceback.format_exception(exc)))[-4000:],
            "dlq_failed_at": datetime.now(UTC).isoformat(),
        }
        await self._broker.publish(record.value, topic=dead_letter_topic(record.topic), key=record.key, headers=headers)
        log.warning(
            "event_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=type(exc).__name__,
        )
