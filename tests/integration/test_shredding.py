"""Crypto-shredding on real PostgreSQL: sealed under a citizen's own key, unreadable once the key is destroyed."""

from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag

from jobbro import shredding
from jobbro.db import create_pool, migrate
from jobbro.shredding import Erasure, KeyDestroyed


def _citizen() -> str:
    return f"c-{uuid4().hex[:16]}"


async def test_erasing_a_citizen_destroys_their_key_and_only_theirs(database: str) -> None:
    pool = await create_pool(database, size=1)
    try:
        await migrate(pool)
        erased, kept = _citizen(), _citizen()
        async with pool.acquire() as conn:
            sealed = await shredding.seal(conn, erased, b"0101901234")
            other = await shredding.seal(conn, kept, b"0202902345")
            assert b"0101901234" not in sealed and await shredding.unseal(conn, erased, sealed) == b"0101901234"
            with pytest.raises(InvalidTag):
                await shredding.unseal(conn, kept, sealed)  # bound to its citizen

            erasure = Erasure(uuid4(), erased, "the citizen's request under GDPR art. 17", "operator-1")
            first = await shredding.erase(conn, erasure)
            assert first[0] == erasure.erasure_id
            assert await shredding.erase(conn, Erasure(uuid4(), erased, "again", "operator-2")) == first

            with pytest.raises(KeyDestroyed):
                await shredding.unseal(conn, erased, sealed)
            with pytest.raises(KeyDestroyed):
                await shredding.seal(conn, erased, b"a late event")  # no new key for an erased citizen
            assert await shredding.unseal(conn, kept, other) == b"0202902345"
            reason = await conn.fetchval("SELECT reason FROM citizen_erasures WHERE citizen_ref = $1", erased)
            assert reason == "the citizen's request under GDPR art. 17"
    finally:
        await pool.close()
