"""`PgApplications` held to the `Applications` port's contract, on a fresh, migrated database, each test in a
transaction that rolls back."""

from collections.abc import AsyncIterator

import pytest

from jobbro.testing import rolled_back
from services.subsidy.app import SQL
from services.subsidy.store import PgApplications
from tests.subsidy.applications_contract import ApplicationsContract
from tests.subsidy.factories import DATA_KEYS


class TestPgApplications(ApplicationsContract):
    @pytest.fixture
    async def applications(self, database: str) -> AsyncIterator[PgApplications]:
        async with rolled_back(database, SQL) as conn:
            yield PgApplications(conn, DATA_KEYS)
