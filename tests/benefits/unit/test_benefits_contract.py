"""The in-memory `Benefits` the handlers' unit tests use, held to the port's contract."""

import pytest

from services.benefits.domain import Citizen, StoredCpr
from tests.benefits.benefits_contract import BenefitsContract, InClear
from tests.benefits.memory import InMemoryBenefits


class TestInMemoryBenefits(BenefitsContract):
    @pytest.fixture
    def benefits(self) -> InMemoryBenefits:
        return InMemoryBenefits()

    @pytest.fixture
    def in_clear(self, benefits: InMemoryBenefits) -> InClear:
        async def write(citizen: Citizen, cpr: StoredCpr, data_key: bytes | None) -> None:
            benefits.register_in_clear(citizen, cpr, data_key)

        return write
