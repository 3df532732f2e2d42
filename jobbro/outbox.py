"""The transactional outbox: events are rows written with the state change, and a relay publishes them.

The relay never tracks a high-water mark of ids: serial ids are handed out at insert time but become visible
at commit time, out of order. It reads whatever rows are committed, oldest first, publishes them, waits for the
broker's acknowledgement (acks=all) and only then deletes them. A relay killed mid-batch leaves its rows in
place, so they are published again: at least once, with the event id for consumers' inboxes to drop repeats.

Per-key order: a service takes the aggregate's row lock before writing its events, so one key's rows get ids
in commit order; one relay at a time (a transaction-scoped advisory lock) publishes in id order, and the
idempotent producer keeps that order per partition. Replicas of a service each run a relay; the one that
does not get the lock stands by until the next round.

A row the broker will never take (larger than it accepts, an invalid topic name) would stop every row behind it;
it is moved to `outbox_rejected` with the reason and logged as an error instead, for an operator to deal with.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import asyncpg
import structlog
from aiokafka.errors import InvalidTopicError, MessageSizeTooLargeError, RecordListTooLargeError

from contracts.envelope import Metadata, Record

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "jobbro_outbox"
_RELAY_LOCK = 0x6F7574  # pg_try_advisory_xact_lock key: one publishing relay per database ("out")

REFUSED: tuple[type[Exception], ...] = (MessageSizeTooLargeError, RecordListTooLargeError, InvalidTopicError)
"""What the broker answers about a record it will never take: sending it again would block the outbox forever."""

Publish = Callable[[str, str, bytes | None, Mapping[str, str]], Awaitable["asyncio.Future[Any]"]]
"""Start sending one record (topic, key, value, headers; a None value is a tombstone); the returned future resolves
on the broker's ack."""


async def append(conn: asyncpg.Connection, events: Iterable[tuple[Metadata, Record]]) -> None:
    """Write events inside the caller's transaction; a listening relay is woken when it commits (a trigger
    notifies `NOTIFY_CHANNEL`)."""
    rows = [(meta.id, rec.topic, rec.key, rec.value, dict(rec.headers)) for meta, rec in events]
    if len(rows) >= COPY_FROM:  # a payment run's batch: COPY costs both sides far less per row than INSERTs
        await conn.copy_records_to_table("outbox", records=rows, columns=_COLUMNS)
    elif rows:
        await conn.executemany(
            "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)", rows
        )


COPY_FROM = 100
"""Rows from which `append` COPYs them in: below it, COPY's extra statement (asyncpg asks for the table's column
types) costs more than it saves."""
_COLUMNS = ("event_id", "topic", "key", "value", "headers")


class OutboxRelay:
    """Moves committed outbox rows to Kafka, oldest first."""

    def __init__(self, pool: asyncpg.Pool, publish: Publish, *, batch_size: int, poll_seconds: float) -> None:
        self._pool = pool
        self._publish = publish
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    async def publish_batch(self) -> int:
        """Publish up to one batch; return how many rows left the outbox (0 when another relay holds the lock)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT id, event_id, topic, key, value, headers FROM outbox ORDER BY id LIMIT $1", self._batch_size
            )
            if not rows:
                return 0
            refused = await self._send(rows)
            if refused:
                await self._reject(conn, refused)
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        log.debug("outbox_published", count=len(rows) - len(refused))
        return len(rows)

    async def _send(self, rows: list[asyncpg.Record]) -> list[tuple[asyncpg.Record, BaseException]]:
        """Send the rows pipelined and wait for every ack; the rows the broker refused for good, with the reason.
        Any other failure is raised: the whole batch stays and is sent again."""
        refused: list[tuple[asyncpg.Record, BaseException]] = []
        sending: list[tuple[asyncpg.Record, asyncio.Future[Any]]] = []
        for row in rows:
            try:
                sending.append((row, await self._publish(row["topic"], row["key"], row["value"], row["headers"])))
            except REFUSED as exc:  # the producer refuses an oversized record before sending it
                refused.append((row, exc))
        acks = await asyncio.gather(*(ack for _, ack in sending), return_exceptions=True)
        for (row, _), ack in zip(sending, acks, strict=True):
            if isinstance(ack, REFUSED):
                refused.append((row, ack))
            elif isinstance(ack, BaseException):
                raise ack
        return refused

    @staticmethod
    async def _reject(conn: asyncpg.Connection, refused: list[tuple[asyncpg.Record, BaseException]]) -> None:
        await conn.executemany(
            """INSERT INTO outbox_rejected (id, event_id, topic, key, value, headers, created_at, error)
               SELECT id, event_id, topic, key, value, headers, created_at, $2 FROM outbox WHERE id = $1""",
            [(row["id"], repr(exc)) for row, exc in refused],
        )
        for row, exc in refused:
            log.error("outbox_record_rejected", event_id=str(row["event_id"]), topic=row["topic"], error=repr(exc))

    async def run(self) -> None:
        """Relay until `stop` (or cancelled): at once on NOTIFY, else every `poll_seconds` (a missed NOTIFY costs
        latency only)."""
        listener = await self._pool.acquire()
        await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
        try:
            failures = 0
            while not self._stopping:
                self._wake.clear()
                try:
                    published = await self.publish_batch()
                    failures = 0
                except Exception as exc:  # the relay outlives broker and database outages
                    if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                        raise  # asyncpg may turn a cancellation into InterfaceError: stop anyway
                    failures += 1
                    log.warning("outbox_relay_failed", error=repr(exc), failures=failures)
                    await self._pause(min(self._poll_seconds * failures, 10.0))
                    continue
                if published < self._batch_size:
                    await self._pause(self._poll_seconds)
        finally:
            await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self._pool.release(listener)

    def stop(self) -> None:
        """Make `run` return once the batch in flight is published and deleted: a stop that cancelled it between
        the broker's acks and the delete would have the next start publish the batch again."""
        self._stopping = True
        self._wake.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep until woken (NOTIFY or `stop`) or `seconds` have passed."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
