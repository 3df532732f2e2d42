"""Crypto-shredding on real PostgreSQL: sealed under a citizen's own key, unreadable once the key is destroyed."""

import os
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


async def test_rewrapping_under_a_new_kek_lets_the_old_one_go_and_every_sealed_datum_still_opens(database: str) -> None:
    """KEK rotation: list a new KEK first, rewrap, remove the old one; an erased citizen stays erased."""
    old = "2026-12:a-key-encryption-key-for-these-tests-only"
    new = "2027-06:a-newer-kek-listed-first-at-rotation"
    pool = await create_pool(database, size=2)
    try:
        await migrate(pool)
        citizens = [_citizen() for _ in range(5)]
        legacy, erased = _citizen(), citizens[0]
        async with pool.acquire() as conn:
            sealed = {c: await shredding.seal(conn, KEYS, c, c.encode()) for c in citizens}
            plain_key = os.urandom(32)  # stored before keys were wrapped
            await conn.execute("INSERT INTO citizen_keys (citizen_ref, data_key) VALUES ($1, $2)", legacy, plain_key)
            sealed[legacy] = shredding.seal_with(plain_key, legacy, legacy.encode())
            await shredding.erase(conn, Erasure(uuid4(), erased, "the citizen's request", "operator-1"))

        rotated = KeyWrap(SecretStr(f"{new},{old}"), setting="test")
        batches: list[tuple[int, int]] = []
        assert await shredding.rewrap(pool, rotated, batch_size=2, on_batch=lambda *done: batches.append(done)) == 5
        assert batches == [(2, 2), (4, 4), (5, 5)]
        assert await shredding.rewrap(pool, rotated, batch_size=2) == 0  # nothing left under the old KEK

        retired = KeyWrap(SecretStr(new), setting="test")
        async with pool.acquire() as conn:
            for citizen in [*citizens[1:], legacy]:
                assert await shredding.unseal(conn, retired, citizen, sealed[citizen]) == citizen.encode()
            with pytest.raises(KeyDestroyed):
                await shredding.unseal(conn, retired, erased, sealed[erased])
            stored = await conn.fetchval("SELECT data_key FROM citizen_keys WHERE citizen_ref = $1", citizens[1])
        with pytest.raises(KekUnknown):
            KEYS.unwrap(citizens[1], stored)  # the old KEK alone no longer opens it
    finally:
        await pool.close()
