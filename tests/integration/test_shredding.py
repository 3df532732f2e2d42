"""Crypto-shredding on real PostgreSQL: sealed under a citizen's own key, unreadable once the key is destroyed."""

from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr

from jobbro import shredding
from jobbro.db import create_pool, migrate
from jobbro.shredding import Erasure, KekUnknown, KeyDestroyed, KeyWrap

KEYS = KeyWrap(SecretStr("2026-12:a-key-encryption-key-for-these-tests-only"), setting="test")


def _citizen() -> str:
    return f"c-{uuid4().hex[:16]}"


async def test_erasing_a_citizen_destroys_their_key_and_only_theirs(database: str) -> None:
    pool = await create_pool(database, size=1)
    try:
        await migrate(pool)
        erased, kept = _citizen(), _citizen()
        async with pool.acquire() as conn:
            sealed = await shredding.seal(conn, KEYS, erased, b"0101901234")
            other = await shredding.seal(conn, KEYS, kept, b"0202902345")
            assert b"0101901234" not in sealed and await shredding.unseal(conn, KEYS, erased, sealed) == b"0101901234"
            with pytest.raises(InvalidTag):
                await shredding.unseal(conn, KEYS, kept, sealed)  # bound to its citizen

            erasure = Erasure(uuid4(), erased, "the citizen's request under GDPR art. 17", "operator-1")
            first = await shredding.erase(conn, erasure)
            assert first[0] == erasure.erasure_id
            assert await shredding.erase(conn, Erasure(uuid4(), erased, "again", "operator-2")) == first

            with pytest.raises(KeyDestroyed):
                await shredding.unseal(conn, KEYS, erased, sealed)
            with pytest.raises(KeyDestroyed):
                await shredding.seal(conn, KEYS, erased, b"a late event")  # no new key for an erased citizen
            assert await shredding.unseal(conn, KEYS, kept, other) == b"0202902345"
            reason = await conn.fetchval("SELECT reason FROM citizen_erasures WHERE citizen_ref = $1", erased)
            assert reason == "the citizen's request under GDPR art. 17"
    finally:
        await pool.close()


async def test_a_stored_data_key_opens_nothing_without_the_key_encryption_key(database: str) -> None:
    """What a dump or backup of the database holds: the sealed value and the wrapped key, and neither opens it."""
    pool = await create_pool(database, size=1)
    try:
        await migrate(pool)
        citizen = _citizen()
        async with pool.acquire() as conn:
            sealed = await shredding.seal(conn, KEYS, citizen, b"0101901234")
            stored = await conn.fetchval("SELECT data_key FROM citizen_keys WHERE citizen_ref = $1", citizen)
    finally:
        await pool.close()

    with pytest.raises(InvalidTag):
        shredding.open_with(stored[-32:], citizen, sealed)  # the stored bytes are no key
    with pytest.raises(KekUnknown):
        KeyWrap(SecretStr("2027-06:another-key-encryption-key-after-rotation"), setting="test").unwrap(citizen, stored)
    with pytest.raises(InvalidTag):
        KeyWrap(SecretStr("2026-12:the-same-kid-but-a-different-secret-value"), setting="test").unwrap(citizen, stored)
    with pytest.raises(InvalidTag):
        KEYS.unwrap(_citizen(), stored)  # bound to its citizen
    rotated = KeyWrap(
        SecretStr("2027-06:a-newer-kek-listed-first-rotation,2026-12:a-key-encryption-key-for-these-tests-only"),
        setting="test",
    )
    assert shredding.open_with(rotated.unwrap(citizen, stored), citizen, sealed) == b"0101901234"
