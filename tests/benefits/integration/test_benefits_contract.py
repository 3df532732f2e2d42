"""`PgBenefits` held to the `Benefits` port's contract, on a fresh, migrated database, each test in a transaction
that rolls back."""

from collections.abc import AsyncIterator
from dataclasses import astuple
from uuid import uuid4

import asyncpg
import pytest

from jobbro.testing import rolled_back
from services.benefits.app import SQL
from services.benefits.domain import Citizen, StoredCpr
from services.benefits.store import PgBenefits
from tests.benefits.benefits_contract import BenefitsContract, InClear
from tests.benefits.events import DATA_KEYS

_IN_CLEAR = """INSERT INTO citizens (citizen_ref, municipality, benefit, target_group, monthly_rate_ore,
                   top_up_monthly_ore, birth_date, unemployed_since, single_parent,
                   upper_secondary_or_vocational_education, newly_graduated, qualifying_education,
                   cpr_sealed, cpr_shreddable, import_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"""
"""A row as imported before migration 0006: the circumstances in clear (the columns in `Citizen`'s order)."""


class TestPgBenefits(BenefitsContract):
    @pytest.fixture
    async def conn(self, database: str) -> AsyncIterator[asyncpg.Connection]:
        async with rolled_back(database, SQL) as conn:
            yield conn

    @pytest.fixture
    def benefits(self, conn: asyncpg.Connection) -> PgBenefits:
        return PgBenefits(conn, DATA_KEYS)

    @pytest.fixture
    def in_clear(self, conn: asyncpg.Connection) -> InClear:
        async def write(citizen: Citizen, cpr: StoredCpr, data_key: bytes | None) -> None:
            ring, shreddable = (None, cpr.sealed) if cpr.shreddable else (cpr.sealed, None)
            await conn.execute(_IN_CLEAR, *astuple(citizen), ring, shreddable, uuid4())
            if data_key is not None:
                await conn.execute(
                    "INSERT INTO citizen_keys (citizen_ref, data_key) VALUES ($1, $2)", citizen.citizen_ref, data_key
                )

        return write
