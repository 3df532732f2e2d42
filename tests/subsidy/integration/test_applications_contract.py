"""`PgApplications` held to the `Applications` port's contract, on a fresh, migrated database, each test in a
transaction that rolls back."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from jobbro import db
from services.subsidy.app import SQL
from services.subsidy.store import PgApplications
from tests.subsidy.applications_contract import ApplicationsContract
from tests.subsidy.factories import DATA_KEYS


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database, 2)
    await db.migrate(pool, SQL)
    yield pool
    await pool.close()


class TestPgApplications(ApplicationsContract):
    @pytest.fixture
    async def applications(self, pool: asyncpg.Pool) -> AsyncIterator[PgApplications]:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield PgApplications(conn, DATA_KEYS)
            finally:
                await transaction.rollback()
