"""The in-memory `Plans` the handlers' unit tests use, held to the port's contract."""

import pytest

from tests.activation.memory import InMemoryPlans
from tests.activation.plans_contract import PlansContract


class TestInMemoryPlans(PlansContract):
    @pytest.fixture
    def plans(self) -> InMemoryPlans:
        return InMemoryPlans()
