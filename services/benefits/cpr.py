"""CPR numbers encrypted at rest: the registry finds a citizen by the keyed hash (`citizen_ref`) and decrypts the
CPR number only to pay the citizen."""

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


class CprCipher:
    """AES-256-GCM with a key derived from the configured secret; each ciphertext is bound to its citizen
    reference (associated data), so a sealed CPR number copied to another citizen's row does not open."""

    def __init__(self, secret: str) -> None:
        key = HKDF(hashes.SHA256(), length=32, salt=None, info=b"jobbro/benefits/cpr/v1").derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, cpr: str, citizen_ref: str) -> bytes:
        """Nonce and ciphertext of the CPR number (dashes removed)."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, cpr.replace("-", "").encode(), citizen_ref.encode())

    def open(self, sealed: bytes, citizen_ref: str) -> str:
        """The CPR number; raises `cryptography.exceptions.InvalidTag` for a wrong key, reference or tampering."""
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], citizen_ref.encode()).decode()
