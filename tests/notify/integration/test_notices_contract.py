"""`PgNotices` held to the `Notices` port's contract, on a fresh, migrated database, each test in a transaction
that rolls back."""

from collections.abc import AsyncIterator

import pytest

from jobbro.testing import rolled_back
from services.notify.app import SQL
from services.notify.store import PgNotices
from tests.notify.notices_contract import NoticesContract


class TestPgNotices(NoticesContract):
    @pytest.fixture
    async def notices(self, database: str) -> AsyncIterator[PgNotices]:
        async with rolled_back(database, SQL) as conn:
            yield PgNotices(conn)
