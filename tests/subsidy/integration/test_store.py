"""The store on a real PostgreSQL: the aggregate reads back as written, and history lines number on across saves."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from jobbro.db import create_pool, migrate
from services.subsidy import store
from services.subsidy.app import SQL
from services.subsidy.domain import Actor, Role
from tests.subsidy.factories import Pki, internship
from tests.subsidy.unit.conftest import NOW, submitted


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    pool = await create_pool(database, size=1)
    try:
        await migrate(pool, SQL)
        async with pool.acquire() as connection:
            yield connection
    finally:
        await pool.close()


async def test_an_application_reads_back_as_stored_and_its_history_continues_where_it_ended(
    conn: asyncpg.Connection, pki: Pki
) -> None:
    employer = pki.employer()
    application = submitted(internship(employer))
    first_lines = list(application.changes)
    await store.insert(conn, application)
    assert application.changes == []

    loaded = await store.get(conn, application.id, for_update=True)
    assert loaded == application
    assert loaded is not None
    loaded.withdraw(Actor(Role.EMPLOYER, "signer", cvr=employer.cvr), "no longer needed", NOW)
    later_lines = list(loaded.changes)
    await store.save(conn, loaded)

    assert await store.history(conn, application.id) == first_lines + later_lines
    assert await store.get(conn, application.id) == loaded
    numbers = "SELECT array_agg(seq ORDER BY seq) FROM application_history WHERE application_id = $1"
    assert await conn.fetchval(numbers, application.id) == list(range(1, len(first_lines) + len(later_lines) + 1))
