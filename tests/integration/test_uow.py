"""The unit of work on real PostgreSQL: its queued writes, and what it does with its connection when it cannot begin."""

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from contracts.envelope import Metadata
from jobbro.db import create_pool, migrate
from jobbro.uow import UnitOfWork
from tests.example.forwarding import Forwarder
from tests.example.process import free_port
from tests.example.service import SQL

_ADD = """INSERT INTO counters (counter, value, version) VALUES ($1, $2, 1)
          ON CONFLICT (counter) DO UPDATE SET value = counters.value + EXCLUDED.value, version = counters.version + 1"""


async def test_queued_writes_reach_the_table_at_commit_in_order_and_not_at_all_on_rollback(database: str) -> None:
    pool = await create_pool(database, size=2)
    try:
        await migrate(pool, SQL)
        async with UnitOfWork(pool, "/test") as uow:
            for counter, amount in (("a", 1), ("b", 10), ("a", 2)):
                uow.caused_by(_cause()).write(_ADD, counter, amount)  # a batch's handlers share the queue
            uow.write("UPDATE counters SET value = value * 100 WHERE counter = $1", "a")  # after the upserts
            assert await uow.conn.fetchval("SELECT count(*) FROM counters") == 0  # queued, not sent yet
            await uow.commit()
        async with UnitOfWork(pool, "/test") as uow:
            uow.write(_ADD, "c", 5)
        rows = await pool.fetch("SELECT counter, value, version FROM counters ORDER BY counter")
        assert [tuple(row) for row in rows] == [("a", 300, 2), ("b", 10, 1)]
    finally:
        await pool.close()


def _cause() -> Metadata:
    event_id = uuid4()
    return Metadata(event_id, "/test", "dk.jobbro.test.v1", datetime.now(UTC), "x", event_id)


async def test_a_unit_of_work_cancelled_while_it_begins_gives_its_connection_back(database: str) -> None:
    server = urlsplit(database)
    async with Forwarder(free_port(), server.hostname, server.port) as forwarder:
        pool = await create_pool(
            server._replace(netloc=f"{server.username}:{server.password}@127.0.0.1:{forwarder.port}").geturl(), size=1
        )
        forwarder.hold()  # the server hears nothing: BEGIN waits for an answer
        beginning = asyncio.create_task(UnitOfWork(pool, "/test").__aenter__())
        await asyncio.sleep(0.5)
        beginning.cancel()
        forwarder.release()
        with pytest.raises(asyncio.CancelledError):
            await beginning
        assert pool.get_idle_size() == pool.get_size() == 1  # back in the pool, not held by a unit of work
        await asyncio.wait_for(pool.close(), 30)  # waits for every connection to come back
