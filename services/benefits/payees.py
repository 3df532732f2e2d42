"""A citizen payee's CPR number sealed for the payment back-office alone (docs/privacy.md, "Payment instructions").

Each citizen paid has a payee key of their own (AES-256-GCM), made with their first payment instruction. Benefits
keeps it wrapped under its data-key KEK (`BENEFITS_DATA_KEY_KEKS`), and gives it to the back-office once, on the
compacted topic `benefits.payee-keys.v1`, as compact JWE under the key-encryption key the two share
(`BENEFITS_PAYEE_KEY_KEKS` = `BACKOFFICE_PAYEE_KEY_KEKS`). An instruction carries the CPR number sealed under it,
bound to the `citizen_ref`; erasing the citizen destroys the key here and tombstones it on the topic, so every
instruction's copy of the number on the log is unreadable from then on.
"""

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from jobbro import shredding
from jobbro.keyring import KeyRing, Sealer

PAYEE_KEY_WRAP = "payee-key wrap"
"""The use the shared key-encryption keys are derived for (`jobbro.keyring`)."""


@dataclass(frozen=True)
class NewPayeeKey:
    """A payee key just made: as used, as benefits stores it, and as the back-office is given it."""

    key: bytes
    stored: bytes
    for_backoffice: str


def payee_key_sealer(keks: SecretStr, *, setting: str) -> Sealer:
    """The JWE sealer of payee keys, from the ring setting benefits and the back-office share."""
    return Sealer(KeyRing.parse(keks, use=PAYEE_KEY_WRAP, setting=setting))


def encoded(raw: bytes) -> str:
    """Base64url without padding: a key or a sealed number as text on an event."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decoded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PayeeKeys:
    """Makes, opens and uses citizens' payee keys."""

    def __init__(self, stored_under: shredding.KeyWrap, backoffice: Sealer) -> None:
        self._stored_under = stored_under
        self._backoffice = backoffice

    def new(self, citizen_ref: str) -> NewPayeeKey:
        key = AESGCM.generate_key(bit_length=256)
        return NewPayeeKey(key, self._stored_under.wrap(citizen_ref, key), self._backoffice.seal(encoded(key)))

    def opened(self, citizen_ref: str, stored: bytes) -> bytes:
        return self._stored_under.unwrap(citizen_ref, stored)

    @staticmethod
    def sealed_cpr(key: bytes, citizen_ref: str, cpr: str) -> str:
        """The CPR number as `PaymentInstructionIssuedV2.payee_cpr_sealed` carries it."""
        return encoded(shredding.seal_with(key, citizen_ref, cpr.encode()))


def opened_cpr(key: bytes, citizen_ref: str, sealed: str) -> str:
    """What the back-office does with a payee key: the CPR number `payee_cpr_sealed` holds; raises
    `cryptography.exceptions.InvalidTag` for another citizen's key or a tampered value."""
    return shredding.open_with(key, citizen_ref, decoded(sealed)).decode()
