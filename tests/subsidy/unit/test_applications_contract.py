"""The in-memory `Applications` the handlers' unit tests use, held to the port's contract."""

import pytest

from tests.subsidy.applications_contract import ApplicationsContract
from tests.subsidy.memory import InMemoryApplications


class TestInMemoryApplications(ApplicationsContract):
    @pytest.fixture
    def applications(self) -> InMemoryApplications:
        return InMemoryApplications()
