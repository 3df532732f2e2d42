"""`PgPlans` held to the `Plans` port's contract, on a fresh, migrated database, each test in a transaction that
rolls back."""

from collections.abc import AsyncIterator

import asyncpg
import pytest

from jobbro import db
from services.activation.app import SQL
from services.activation.store import PgPlans
from tests.activation.plans_contract import PlansContract


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database, 2)
    await db.migrate(pool, SQL)
    yield pool
    await pool.close()


class TestPgPlans(PlansContract):
    @pytest.fixture
    async def plans(self, pool: asyncpg.Pool) -> AsyncIterator[PgPlans]:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                yield PgPlans(conn)
            finally:
                await transaction.rollback()
