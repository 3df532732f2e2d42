"""`PgPlans` held to the `Plans` port's contract, on a fresh, migrated database, each test in a transaction that
rolls back."""

from collections.abc import AsyncIterator

import pytest

from jobbro.testing import rolled_back
from services.activation.app import SQL
from services.activation.store import PgPlans
from tests.activation.plans_contract import PlansContract


class TestPgPlans(PlansContract):
    @pytest.fixture
    async def plans(self, database: str) -> AsyncIterator[PgPlans]:
        async with rolled_back(database, SQL) as conn:
            yield PgPlans(conn)
