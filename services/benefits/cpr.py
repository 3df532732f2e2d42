"""CPR numbers encrypted at rest: the registry finds a citizen by the keyed hash (`citizen_ref`) and decrypts the
CPR number only to pay the citizen.

A sealed CPR number names the key that sealed it: `0x01`, the key id's length (one byte), the key id (ASCII), the
nonce and the AES-GCM ciphertext. The key ring (`BENEFITS_CPR_KEYS`, key id → secret) seals with its first key and
opens with whichever key a value names, so a new key goes first and the old ones stay until nothing names them.
Values sealed before key ids were recorded were given the key id `initial` by migration 0002.

On import the ring-sealed number is sealed again under a data key of the citizen's own (`jobbro.shredding`, stored
wrapped under `BENEFITS_DATA_KEY_KEKS`), so erasing the citizen (destroying that key) makes it unrecoverable whatever
the ring still holds.
"""

import os
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from jobbro import shredding
from services.benefits.domain import StoredCpr

_FORMAT = 1
_NONCE_BYTES = 12
INITIAL_KEY_ID = "initial"
"""The key id of values sealed before key ids were recorded (the key then configured as `BENEFITS_CPR_KEY`)."""


class UnknownCprKey(LookupError):
    """A sealed CPR number names a key the ring does not hold (removed too early, or never configured here)."""


class CprCipher:
    """AES-256-GCM with keys derived from the configured secrets; each ciphertext is bound to its citizen
    reference (associated data), so a sealed CPR number copied to another citizen's row does not open."""

    def __init__(self, keys: Mapping[str, SecretStr | str], data_keys: shredding.KeyWrap) -> None:
        self._data_keys = data_keys
        if not keys:
            raise ValueError("the CPR key ring is empty")
        self._keys = {_checked_id(kid): AESGCM(_derive(secret)) for kid, secret in keys.items()}
        self._current = next(iter(self._keys))

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, cpr: str, citizen_ref: str) -> bytes:
        """The key id, nonce and ciphertext of the CPR number (dashes removed), under the ring's first key."""
        nonce = os.urandom(_NONCE_BYTES)
        kid = self._current.encode()
        ciphertext = self._keys[self._current].encrypt(nonce, cpr.replace("-", "").encode(), citizen_ref.encode())
        return bytes([_FORMAT, len(kid)]) + kid + nonce + ciphertext

    def open(self, sealed: bytes, citizen_ref: str) -> str:
        """The CPR number; raises `UnknownCprKey` for a key not in the ring, and
        `cryptography.exceptions.InvalidTag` for a wrong key, reference or tampering."""
        kid, rest = key_id(sealed), sealed[2 + sealed[1] :]
        aead = self._keys.get(kid)
        if aead is None:
            raise UnknownCprKey(f"no CPR key {kid!r} in the ring")
        return aead.decrypt(rest[:_NONCE_BYTES], rest[_NONCE_BYTES:], citizen_ref.encode()).decode()

    def seal_for_citizen(self, cpr: str, citizen_ref: str) -> tuple[bytes, bytes]:
        """A new data key for the citizen, as stored (wrapped), and the CPR number sealed under the ring and then
        under that key."""
        data_key, wrapped = self._data_keys.new_key(citizen_ref)
        return wrapped, shredding.seal_with(data_key, citizen_ref, self.seal(cpr, citizen_ref))

    def open_stored(self, stored: StoredCpr, citizen_ref: str) -> str:
        """The CPR number as the registry keeps it; raises `jobbro.shredding.KeyDestroyed` for an erased citizen."""
        if not stored.shreddable:
            return self.open(stored.sealed, citizen_ref)
        if stored.data_key is None:
            raise shredding.KeyDestroyed("the citizen's personal data was erased")
        data_key = self._data_keys.unwrap(citizen_ref, stored.data_key)
        return self.open(shredding.open_with(data_key, citizen_ref, stored.sealed), citizen_ref)


def key_id(sealed: bytes) -> str:
    """The id of the key a sealed CPR number was sealed with."""
    if len(sealed) < 2 or sealed[0] != _FORMAT:
        raise ValueError("not a sealed CPR number of a known format")
    return sealed[2 : 2 + sealed[1]].decode("ascii")


def _derive(secret: SecretStr | str) -> bytes:
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return HKDF(hashes.SHA256(), length=32, salt=None, info=b"jobbro/benefits/cpr/v1").derive(raw.encode())


def _checked_id(kid: str) -> str:
    if not kid or not kid.isascii() or len(kid) > 255:
        raise ValueError(f"a CPR key id is 1 to 255 ASCII characters, not {kid!r}")
    return kid
