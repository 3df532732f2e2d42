"""Crypto-shredding: a citizen's personal data stored sealed under a data key of their own, so that erasing the
citizen is destroying one key. Every sealed copy (the row, a dump, a backup of the row) becomes unreadable, while
the pseudonymous records that name the citizen by `citizen_ref` (decisions, payments, plans) stay consistent.

A sealed value is `0x01`, a 12-byte nonce and the AES-256-GCM ciphertext, bound to the citizen reference as
associated data (a value copied to another citizen does not open). The keys are rows of `citizen_keys` in the
service's own database, each wrapped under a key-encryption key from the settings (`KeyWrap`), so a copy of the
database alone (a dump, a backup) opens nothing; an erased citizen stays in `citizen_erasures` with the operator's
reason, so a late event cannot make them a new key. Keys and erasures are the service's: each service that keeps
personal data erases it.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from jobbro.keyring import KeyRing

_FORMAT = 1
_WRAPPED = 2
_NONCE_BYTES = 12
DATA_KEY_WRAP = "citizen data-key wrap"
"""The use the key-encryption keys are derived for (`jobbro.keyring`)."""


class KeyDestroyed(LookupError):
    """The citizen's data key was destroyed: what was sealed under it cannot be opened, nor anything new sealed."""


@dataclass(frozen=True)
class Erasure:
    """An operator's request to erase a citizen's personal data, and why (kept; it holds no personal data)."""

    erasure_id: UUID
    citizen_ref: str
    reason: str
    requested_by: str


class KeyWrap:
    """Wraps citizens' data keys under the key-encryption keys of a ring setting: the first wraps, every listed one
    unwraps. A key stays bound to its citizen (a wrapped key copied to another row does not unwrap)."""

    def __init__(self, keks: SecretStr, *, setting: str) -> None:
        self._ring = KeyRing.parse(keks, use=DATA_KEY_WRAP, setting=setting)

    def wrap(self, citizen_ref: str, data_key: bytes) -> bytes:
        """`0x02`, the length and id of the KEK, a nonce and the data key under the KEK (AES-256-GCM)."""
        kid, kek = self._ring.current
        nonce = os.urandom(_NONCE_BYTES)
        wrapped = AESGCM(kek.raw_value).encrypt(nonce, data_key, citizen_ref.encode())
        return bytes([_WRAPPED, len(kid)]) + kid.encode() + nonce + wrapped

    def unwrap(self, citizen_ref: str, wrapped: bytes) -> bytes:
        """The data key; raises `KekUnknown` for a KEK no longer listed, `InvalidTag` for another citizen's key.

        A 32-byte value is a key stored before keys were wrapped: it is taken as it is (`docs/privacy.md`)."""
        if len(wrapped) == 32:
            return wrapped
        if len(wrapped) < 2 or wrapped[0] != _WRAPPED:
            raise ValueError("not a wrapped data key of a known format")
        kid_end = 2 + wrapped[1]
        kek = self._ring.get(wrapped[2:kid_end].decode())
        if kek is None:
            raise KekUnknown("the data key was wrapped under a key-encryption key no longer listed")
        nonce, ciphertext = wrapped[kid_end : kid_end + _NONCE_BYTES], wrapped[kid_end + _NONCE_BYTES :]
        return AESGCM(kek.raw_value).decrypt(nonce, ciphertext, citizen_ref.encode())

    def is_current(self, wrapped: bytes) -> bool:
        """Whether a stored key is wrapped under the newest KEK (else `rewrap` wraps it again)."""
        kid = self._ring.current[0].encode()
        return len(wrapped) > 2 + len(kid) and wrapped[0] == _WRAPPED and wrapped[2 : 2 + wrapped[1]] == kid

    def new_key(self, citizen_ref: str) -> tuple[bytes, bytes]:
        """A new data key for the citizen: as used, and as stored (wrapped)."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self.wrap(citizen_ref, data_key)


class KekUnknown(LookupError):
    """A data key wrapped under a key-encryption key the settings no longer list (retired after a rotation)."""


def seal_with(data_key: bytes, citizen_ref: str, plaintext: bytes) -> bytes:
    """The plaintext sealed under `data_key`, bound to the citizen."""
    nonce = os.urandom(_NONCE_BYTES)
    return bytes([_FORMAT]) + nonce + AESGCM(data_key).encrypt(nonce, plaintext, citizen_ref.encode())


def open_with(data_key: bytes, citizen_ref: str, sealed: bytes) -> bytes:
    """The plaintext; raises `cryptography.exceptions.InvalidTag` for another key, citizen or tampering."""
    if not sealed or sealed[0] != _FORMAT:
        raise ValueError("not a sealed value of a known format")
    nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    return AESGCM(data_key).decrypt(nonce, ciphertext, citizen_ref.encode())


def seal_forgotten(citizen_ref: str, plaintext: bytes) -> bytes:
    """Sealed under a key nobody keeps: what erasing a citizen makes of a value stored before it had a data key."""
    return seal_with(AESGCM.generate_key(bit_length=256), citizen_ref, plaintext)


async def seal(conn: asyncpg.Connection, keys: KeyWrap, citizen_ref: str, plaintext: bytes) -> bytes:
    """Seal under the citizen's key, made on first use; raises `KeyDestroyed` for an erased citizen."""
    _, wrapped = keys.new_key(citizen_ref)
    await conn.execute(
        """INSERT INTO citizen_keys (citizen_ref, data_key)
           SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM citizen_erasures WHERE citizen_ref = $1)
           ON CONFLICT (citizen_ref) DO NOTHING""",
        citizen_ref,
        wrapped,
    )
    return seal_with(await _key(conn, keys, citizen_ref), citizen_ref, plaintext)


async def unseal(conn: asyncpg.Connection, keys: KeyWrap, citizen_ref: str, sealed: bytes) -> bytes:
    """Open a value sealed for the citizen; raises `KeyDestroyed` once their key is destroyed."""
    return open_with(await _key(conn, keys, citizen_ref), citizen_ref, sealed)


async def erase(conn: asyncpg.Connection, erasure: Erasure) -> tuple[UUID, datetime]:
    """Destroy the citizen's key and record the request; erasing again changes nothing and tells the first erasure
    (its id and time)."""
    await conn.execute("DELETE FROM citizen_keys WHERE citizen_ref = $1", erasure.citizen_ref)
    await conn.execute(
        """INSERT INTO citizen_erasures (citizen_ref, erasure_id, reason, requested_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (citizen_ref) DO NOTHING""",
        erasure.citizen_ref,
        erasure.erasure_id,
        erasure.reason,
        erasure.requested_by,
    )
    first = await conn.fetchrow(
        "SELECT erasure_id, erased_at FROM citizen_erasures WHERE citizen_ref = $1", erasure.citizen_ref
    )
    return first["erasure_id"], first["erased_at"]


REWRAP_BATCH = 1000
"""Keys one rewrap transaction takes at most: short locks, so erasures and new keys wait for a batch only."""


async def rewrap(
    pool: asyncpg.Pool,
    keys: KeyWrap,
    *,
    batch_size: int = REWRAP_BATCH,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Wrap every stored data key not under the newest KEK under it, a batch per transaction, so that the older
    KEKs can be removed from the settings; returns how many keys were rewrapped. Keys stored before wrapping are
    wrapped. A key erased meanwhile stays erased (rows are locked, never made); run again, it rewraps nothing.

    `on_batch(seen, rewrapped)` is told the running totals after each batch."""
    after, seen, rewrapped = "", 0, 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT citizen_ref, data_key FROM citizen_keys WHERE citizen_ref > $1
                   ORDER BY citizen_ref LIMIT $2 FOR UPDATE""",
                after,
                batch_size,
            )
            if not rows:
                return rewrapped
            stale = [
                (row["citizen_ref"], keys.wrap(row["citizen_ref"], keys.unwrap(row["citizen_ref"], row["data_key"])))
                for row in rows
                if not keys.is_current(row["data_key"])
            ]
            await conn.executemany("UPDATE citizen_keys SET data_key = $2 WHERE citizen_ref = $1", stale)
        after, seen, rewrapped = rows[-1]["citizen_ref"], seen + len(rows), rewrapped + len(stale)
        if on_batch:
            on_batch(seen, rewrapped)


async def _key(conn: asyncpg.Connection, keys: KeyWrap, citizen_ref: str) -> bytes:
    wrapped = await conn.fetchval("SELECT data_key FROM citizen_keys WHERE citizen_ref = $1", citizen_ref)
    if wrapped is None:
        raise KeyDestroyed("the citizen's personal data was erased")
    return keys.unwrap(citizen_ref, wrapped)
