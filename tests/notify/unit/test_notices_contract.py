"""The in-memory `Notices` the handlers' unit tests use, held to the port's contract."""

import pytest

from tests.notify.memory import InMemoryNotices
from tests.notify.notices_contract import NoticesContract


class TestInMemoryNotices(NoticesContract):
    @pytest.fixture
    def notices(self) -> InMemoryNotices:
        return InMemoryNotices()
