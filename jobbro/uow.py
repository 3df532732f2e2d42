"""The unit of work: one transaction in which state changes, the inbox claim and outgoing events commit together."""

from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import asyncpg

from contracts.envelope import Event, Metadata, Record, encode
from jobbro import outbox, tracing

S = TypeVar("S", covariant=True)


class Work(Protocol[S]):
    """The port handlers decide through: the service's store, the events to publish, what to do once committed.

    The kit's `UnitOfWork` is the PostgreSQL adapter; a service's unit tests give its handlers an in-memory one
    (`jobbro.testing.InMemoryWork`), so a decision path runs without a database or a broker."""

    @property
    def store(self) -> S: ...

    def publish(self, event: Event) -> Metadata: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


StoreFactory = Callable[[asyncpg.Connection], Any]
"""A service's store over the transaction's connection (`Runtime(..., store=PgPlans)`)."""


class UnitOfWork:
    """Rolls back unless `commit()` is called; events published through it reach Kafka only if it commits."""

    def __init__(
        self, pool: asyncpg.Pool, source: str, cause: Metadata | None = None, store: StoreFactory | None = None
    ) -> None:
        self._pool = pool
        self._source = source
        self._cause = cause
        self._store = store
        self._pending: list[tuple[Metadata, Record]] = []
        self._writes: dict[str, list[tuple[Any, ...]]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._conn: asyncpg.Connection | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self.committed = False

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn

    @property
    def store(self) -> Any:
        """The service's store in this transaction (its runtime names it)."""
        if self._store is None:
            raise RuntimeError("this runtime names no store")
        return self._store(self.conn)

    def publish(self, event: Event) -> Metadata:
        """Queue an event for the outbox; it carries the correlation id of the message being handled and the
        `traceparent` of the span it is written in (stored with the outbox row, sent as `ce_traceparent`)."""
        fallback = self._cause.traceparent if self._cause else None
        meta, record = encode(
            event, source=self._source, cause=self._cause, traceparent=tracing.current_traceparent(fallback)
        )
        self._pending.append((meta, record))
        return meta

    def write(self, statement: str, *args: Any) -> None:
        """Queue a write whose result the handler does not need (an insert, an upsert by key): before the commit,
        each statement's queued rows go to PostgreSQL in one pipelined `executemany`, so a fetched batch's writes
        cost one round trip, not one per event. Until then nothing in the transaction sees them: read back only
        what was written through `conn`."""
        self._writes.setdefault(statement, []).append(args)

    def caused_by(self, cause: Metadata) -> "UnitOfWork":
        """This unit of work handling one more event: the same transaction, its events caused by `cause`.

        A consumer handles a fetched batch this way, so the batch costs one commit instead of one per event.
        """
        view = UnitOfWork(self._pool, self._source, cause, self._store)
        view._pending, view._writes, view._after_commit = self._pending, self._writes, self._after_commit
        view._conn, view._tx = self._conn, self._tx
        return view

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction is durable (not if it rolls back)."""
        self._after_commit.append(callback)

    async def commit(self) -> None:
        assert self._tx is not None
        for statement, rows in self._writes.items():  # in the order each statement was first queued
            await self.conn.executemany(statement, rows)
        await outbox.append(self.conn, self._pending)
        await self._tx.commit()
        self.committed = True
        for callback in self._after_commit:
            callback()

    async def __aenter__(self) -> Self:
        conn = await self._pool.acquire()
        try:  # `__aexit__` does not run if this fails or is cancelled: give the connection back here
            tx = conn.transaction()
            await tx.start()
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn, self._tx = conn, tx
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self.committed:
                await self._tx.rollback()  # type: ignore[union-attr]
        finally:
            await self._pool.release(self.conn)
            self._conn = None
