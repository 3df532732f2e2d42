"""Kafka: a safe broker, and consumers that handle each event effectively once or dead-letter it.

FastStream and aiokafka default to `acks=1`, no idempotence and acknowledging a message before it is handled.
Here the producer waits for all in-sync replicas and is idempotent, and every subscriber commits its offset only
after the handler's transaction (inbox claim + state + outbox rows) has committed, or after a poison record has
been written to the dead-letter topic. A transient failure that outlasts the retries leaves the offset where it
was (the batch is sought back and redelivered), so nothing is skipped while PostgreSQL or Kafka is down.
"""

import asyncio
import dataclasses
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from prometheus_client import Counter

from contracts.envelope import CORRELATION_ID, EnvelopeError, Event, Metadata, decode
from jobbro import inbox, tracing
from jobbro import log as logs
from jobbro.outbox import Publish
from jobbro.retry import is_transient, with_retries
from jobbro.settings import ServiceSettings
from jobbro.uow import UnitOfWork

log = structlog.get_logger(__name__)

DLQ_SUFFIX = ".dlq"
DLQ_HEADER_PREFIX = "dlq_"
EventHandler = Callable[[Any, Metadata, UnitOfWork], Awaitable[None]]
"""Records the effects of one event in the unit of work; the consumer commits it."""
PRODUCER = {"acks": "all", "enable_idempotence": True, "max_batch_size": 512 * 1024}
"""Every producer's settings: durable and idempotent. An idempotent aiokafka producer has one request in flight per
partition, so its batch size bounds a relay's rate: aiokafka's default 16 KiB (about 18 events) made a relay wait for
a round trip per 18 events; a batch grows only while the request before it is in flight, so idle latency is the same."""


def create_broker(settings: ServiceSettings, middlewares: Sequence[Any] = ()) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for acks from all in-sync replicas, and writes no header of
    its own: FastStream's `correlation_id` (a fresh random id per record) would rival `ce_correlationid`."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        middlewares=tuple(middlewares),
        id_generator=_no_correlation_header,
        security=settings.kafka.faststream_security(),
        **PRODUCER,  # type: ignore[arg-type]
        client_id=settings.service,
        graceful_timeout=15.0,
        logger=logging.getLogger("faststream.jobbro"),  # propagates to the root handler: redacted, JSON
        log_level=logging.DEBUG,  # "Received"/"Processed" per message is debug detail, not operations news
    )


def _no_correlation_header() -> str:
    """An empty id, which FastStream leaves out of the headers; the correlation is `ce_correlationid`."""
    return ""


def outbox_publisher(broker: KafkaBroker, topic_prefix: str = "") -> Publish:
    """The relay's way to send: straight to the broker's aiokafka producer (once started), without waiting, so a
    batch is pipelined; the returned future is the ack. FastStream's publish path (its middlewares, a command
    object, headers copied twice) cost the relay four times aiokafka's own `send` per record."""

    async def publish(topic: str, key: str, value: bytes | None, headers: Mapping[str, str]) -> Any:
        producer = broker.config.producer._producer.producer  # type: ignore[attr-defined]  # FastStream 0.6
        return await producer.send(
            topic_prefix + topic,
            value,
            key=key.encode(),
            headers=[(name, text.encode()) for name, text in headers.items()],
        )

    return publish


def dead_letter_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def dead_letter_headers(record: ConsumerRecord, group: str, exc: BaseException) -> dict[str, str]:
    """The record's own headers, and `dlq_*` headers saying where it came from and why it failed (redacted);
    `jobbro.dead_letters` drops the `dlq_*` ones again when an operator replays it."""
    headers = {name: raw.decode("utf-8", "backslashreplace") for name, raw in record.headers}
    return headers | {
        DLQ_HEADER_PREFIX + "original_topic": record.topic,
        DLQ_HEADER_PREFIX + "original_partition": str(record.partition),
        DLQ_HEADER_PREFIX + "original_offset": str(record.offset),
        DLQ_HEADER_PREFIX + "consumer_group": group,
        DLQ_HEADER_PREFIX + "error_class": type(exc).__name__,
        DLQ_HEADER_PREFIX + "error_message": logs.redact(str(exc))[:2000],
        DLQ_HEADER_PREFIX + "error_trace": logs.redact("".join(traceback.format_exception(exc)))[-4000:],
        DLQ_HEADER_PREFIX + "failed_at": datetime.now(UTC).isoformat(),
    }


async def _tolerant_parse(
    records: tuple[ConsumerRecord, ...], original: Callable[[tuple[ConsumerRecord, ...]], Awaitable[Any]]
) -> Any:
    """Parse records whose header values are not UTF-8 too: FastStream decodes every header before `handle_batch`
    runs and would drop the whole batch unhandled; `handle_batch` still sees the original bytes and dead-letters
    such a record. The message's correlation is the first record's `ce_correlationid`."""
    try:
        message = await original(records)
    except UnicodeDecodeError:
        message = await original(tuple(_escaped(record) for record in records))
        message.raw_message = records
    message.correlation_id = _ce_correlation(records[0]) or message.correlation_id
    return message


def _ce_correlation(record: ConsumerRecord) -> str | None:
    """The record's `ce_correlationid`, for FastStream's own use of a message's correlation (its logs and
    telemetry), which would otherwise read a `correlation_id` header or make up an id."""
    for name, raw in record.headers:
        if name == f"ce_{CORRELATION_ID}":
            return raw.decode("utf-8", "backslashreplace")
    return None


def _escaped(record: ConsumerRecord) -> ConsumerRecord:
    headers = [(name, value.decode("utf-8", "backslashreplace").encode()) for name, value in record.headers]
    return dataclasses.replace(record, headers=headers)


async def _records(message: StreamMessage[Any]) -> Any:
    """The fetched records themselves as the handler's argument, undecoded: FastStream's JSON decoding would fail on
    a poison record before it can be dead-lettered (the ack policy would then redeliver it forever), and taking
    the message by injection resolves it in a worker thread, once per batch."""
    return message.raw_message


def _bind(messages: logs.MessageContext, meta: Metadata) -> None:
    causation = str(meta.causation_id) if meta.causation_id else None
    messages.bind(str(meta.id), str(meta.correlation_id), causation)


@dataclasses.dataclass(frozen=True, slots=True)
class _Delivery:
    """A decoded record with the handler it goes to."""

    record: ConsumerRecord
    meta: Metadata
    event: Event
    handler: EventHandler


class EventConsumer:
    """One consumer group reading one topic: decodes CloudEvents and routes each event type to its handler.

    Records are fetched in batches (as many as have arrived, up to `consume_batch_size`) and a batch is handled
    in one transaction with one offset commit: under load the per-event cost of a commit, an fsync and an offset
    commit is shared; when idle a batch is a single record and nothing waits for more. An idle consumer waits in
    one long fetch rather than polling.
    """

    def __init__(
        self,
        *,
        group: str,
        topic: str,
        catalog: Mapping[str, type[Event]],
        handlers: Mapping[type[Event], EventHandler],
        unit_of_work: Callable[[Metadata | None], UnitOfWork],
        broker: KafkaBroker,
        settings: ServiceSettings,
        dead_letters: Counter | None = None,
    ) -> None:
        self.group = group
        self.topic = topic
        self._catalog = catalog
        self._handlers = handlers
        self._unit_of_work = unit_of_work
        self._broker = broker
        self._settings = settings
        self._dead_letters = dead_letters
        self._subscriber: Any = None

    def subscribe(self) -> None:
        """Register with the broker: offsets are committed after `handle_batch` returns, sought back if it raises."""

        self._subscriber = self._broker.subscriber(
            self.topic,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self._settings.consume_batch_size,
            batch_timeout_ms=self._settings.consume_wait_ms,
            fetch_max_wait_ms=self._settings.consume_wait_ms,  # the broker holds an empty fetch, answers at a record
            title=f"{self.group}:{self.topic}",
            parser=_tolerant_parse,
            decoder=_records,
        )
        self._subscriber.get_msg = self._fetch  # FastStream's would pause `batch_timeout_ms` after an empty fetch

        @self._subscriber
        async def _on_records(records: Any) -> None:
            await self.handle_batch(records)

    async def _fetch(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        """The records that have arrived, up to a batch: a long poll that returns as soon as there is one, so an
        idle consumer wakes once per `consume_wait_ms` and a record after a quiet spell is not kept waiting."""
        fetched = await consumer.getmany(
            timeout_ms=self._settings.consume_wait_ms, max_records=self._settings.consume_batch_size
        )
        return tuple(chain.from_iterable(fetched.values()))

    async def lag(self) -> dict[int, int]:
        """Per assigned partition: records behind the high watermark not fetched yet (nothing when not running)."""
        consumer = getattr(self._subscriber, "consumer", None)
        if consumer is None:
            return {}
        return {
            tp.partition: max((consumer.highwater(tp) or 0) - await consumer.position(tp), 0)
            for tp in consumer.assignment()
        }

    async def handle_batch(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle fetched records; return normally once their effects are durable or they are dead-lettered.

        The batch is one transaction, its events handled in the order of their keys: Kafka orders only each
        key's events, and two consumers of a service that lock rows by key then lock them in the same order
        instead of deadlocking. If a handler fails for good, the batch is rolled back and handled again one
        record at a time, so only the failing record is dead-lettered. Records that are not events of the
        catalog are dead-lettered after the commit: a redelivered batch would dead-letter them again.
        """
        work: list[_Delivery] = []
        poison: list[tuple[ConsumerRecord, EnvelopeError]] = []
        for record in records:
            try:
                delivery = self._decode(record)
            except EnvelopeError as exc:
                poison.append((record, exc))
                continue
            if delivery is not None:
                work.append(delivery)
        work.sort(key=lambda delivery: delivery.record.key or b"")  # stable: each key keeps its own order
        if work:
            try:
                await self._with_retries(lambda: self._apply(work), what=f"batch of {len(work)} events")
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.warning("batch_failed_handled_one_by_one", error=repr(exc), events=len(work))
                for record in records:
                    await self._handle_one(record)
                return
        for record, error in poison:
            await self._dead_letter(record, error)

    async def _handle_one(self, record: ConsumerRecord) -> None:
        """Handle one record in a transaction of its own, dead-lettering it if it cannot be handled."""
        try:
            delivery = self._decode(record)
        except EnvelopeError as exc:
            await self._dead_letter(record, exc)
            return
        if delivery is None:
            return
        try:
            await self._with_retries(lambda: self._apply([delivery]), what=delivery.meta.type)
        except Exception as exc:
            if is_transient(exc):
                raise
            with logs.MessageContext() as messages:
                _bind(messages, delivery.meta)
                log.exception("event_failed", event_type=delivery.meta.type)
            await self._dead_letter(record, exc)

    def _decode(self, record: ConsumerRecord) -> _Delivery | None:
        """The record's event and its handler; None for a catalogued event this consumer has no interest in."""
        if len(record.value or b"") > self._settings.max_record_bytes:
            raise EnvelopeError(f"record of {len(record.value)} bytes exceeds {self._settings.max_record_bytes}")
        meta, event = decode(record.headers, record.value, self._catalog)
        handler = self._handlers.get(type(event))
        return None if handler is None else _Delivery(record, meta, event, handler)

    async def _with_retries(self, attempt: Callable[[], Awaitable[None]], *, what: str) -> None:
        """Repeat after transient failures; when they outlast the retries, pause and raise: the records are sought
        back and delivered again, so nothing is skipped while PostgreSQL or Kafka is down."""
        try:
            await with_retries(
                attempt,
                attempts=self._settings.retry_attempts,
                base_seconds=self._settings.retry_base_seconds,
                what=what,
            )
        except Exception as exc:
            if is_transient(exc):
                log.error("event_redelivery", what=what, error=repr(exc))
                await asyncio.sleep(self._settings.retry_base_seconds * 2**self._settings.retry_attempts)
            raise

    async def _apply(self, work: Sequence[_Delivery]) -> None:
        """Handle `work` in one transaction: the inbox claim, each fresh event's handler, the commit."""
        async with self._unit_of_work(None) as uow:
            fresh = await inbox.claim_all(uow.conn, self.group, [delivery.meta.id for delivery in work])
            with logs.MessageContext() as messages:
                for delivery in work:
                    _bind(messages, delivery.meta)
                    if delivery.meta.id not in fresh:
                        log.info("event_duplicate_ignored", event_type=delivery.meta.type)
                        continue
                    fresh.discard(delivery.meta.id)  # the same event twice in one batch: the second is a repeat
                    with tracing.handling(delivery.meta, topic=self.topic, group=self.group):
                        await delivery.handler(delivery.event, delivery.meta, uow.caused_by(delivery.meta))
            await uow.commit()

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> None:
        headers = dead_letter_headers(record, self.group, exc)
        await self._broker.publish(record.value, topic=dead_letter_topic(record.topic), key=record.key, headers=headers)
        if self._dead_letters is not None:
            self._dead_letters.labels(topic=record.topic, group=self.group).inc()
        log.warning(
            "event_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=type(exc).__name__,
        )
