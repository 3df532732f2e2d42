"""The unit of work on real PostgreSQL: what it does with its connection when it cannot begin."""

import asyncio
from urllib.parse import urlsplit

import pytest

from jobbro.db import create_pool
from jobbro.uow import UnitOfWork
from tests.example.forwarding import Forwarder
from tests.example.process import free_port


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
