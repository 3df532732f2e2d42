"""Symmetric keys that carry a `kid` and rotate: a ring of named secrets, the first one in use, every one accepted.

A ring is one secret setting (`SecretStr`) of comma-separated `kid:secret` entries, e.g.
`2026-12:<secret>,2026-06:<older secret>`. New tokens are made under the first key and name its `kid`; a token
naming any listed `kid` is still read, so a key is rotated by listing a new one first and is retired, voiding
what was made under it, by removing it. Each use derives its own 256-bit key from the secret (HKDF-SHA256 with
the use as `info`), so a secret given to two uses by mistake does not make one use's tokens valid for the other.
A development key listed beside real ones is refused: the production check only sees the start of the setting.

`Sealer` seals a short text for one reader only: compact JWE (RFC 7516), `A256KW` + `A256GCM`, its `kid` in the
protected header. Subsidy seals the representative's link token with it for notify, so that the token never
travels readable on a topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, OctKey
from pydantic import SecretStr

DEVELOPMENT_PREFIX = "development-only-"
"""The development defaults' secrets begin so; production refuses a setting that does (see `jobbro.settings`)."""
MIN_SECRET_LENGTH = 32
"""A secret shorter than this is refused: it could be guessed offline from one token."""
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LINK_SEAL = "representative-link seal"
"""The use of the ring subsidy and notify share: sealing the representative's link token into the approval event."""
_SEAL_ALGORITHM = "A256KW"
_SEAL_ENCRYPTION = "A256GCM"


class KeyRingInvalid(ValueError):
    """A ring setting that cannot be read; the message names the setting, never a secret."""


class Unsealed(ValueError):
    """A sealed text that no key of the ring opens (another key, tampered, or not a JWE)."""


@dataclass(frozen=True)
class KeyRing:
    """Named keys for one use: the first makes, all verify or open."""

    keys: tuple[tuple[str, OctKey], ...]

    @classmethod
    def parse(cls, value: SecretStr, *, use: str, setting: str) -> KeyRing:
        """The ring a `kid:secret,...` setting lists, each key derived for `use`; `setting` names it in errors."""
        keys: list[tuple[str, OctKey]] = []
        development: list[bool] = []
        for entry in (part.strip() for part in value.get_secret_value().split(",")):
            kid, colon, secret = entry.partition(":")
            if not colon or not _KID.fullmatch(kid):
                raise KeyRingInvalid(f"{setting}: each entry must be `kid:secret` with a kid of [A-Za-z0-9._-]")
            if len(secret) < MIN_SECRET_LENGTH:
                raise KeyRingInvalid(f"{setting}: the secret of kid {kid} is shorter than {MIN_SECRET_LENGTH}")
            if any(kid == known for known, _ in keys):
                raise KeyRingInvalid(f"{setting}: kid {kid} is listed twice")
            keys.append((kid, OctKey.import_key(_derived(secret, use), {"kid": kid})))
            development.append(secret.startswith(DEVELOPMENT_PREFIX))
        if any(development) and not all(development):
            raise KeyRingInvalid(f"{setting}: a development-only key is listed beside real ones; remove it")
        return cls(tuple(keys))

    @property
    def current(self) -> tuple[str, OctKey]:
        """The key new tokens are made under, with its kid."""
        return self.keys[0]

    def get(self, kid: object) -> OctKey | None:
        """The listed key named `kid`; None for a key never listed or removed since."""
        return next((key for known, key in self.keys if known == kid), None)


class Sealer:
    """Seals texts for whoever holds the same ring, and opens theirs."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def seal(self, text: str) -> str:
        kid, key = self._ring.current
        header = {"alg": _SEAL_ALGORITHM, "enc": _SEAL_ENCRYPTION, "kid": kid}
        return jwe.encrypt_compact(header, text, key, algorithms=[_SEAL_ALGORITHM, _SEAL_ENCRYPTION])

    def open(self, sealed: str) -> str:
        """The sealed text, if a listed key opens it; `Unsealed` otherwise (the reason is not told apart)."""
        try:
            opened = jwe.decrypt_compact(sealed, self._key_named, algorithms=[_SEAL_ALGORITHM, _SEAL_ENCRYPTION])
        except (JoseError, ValueError) as exc:
            raise Unsealed("cannot be opened with this ring") from exc
        assert opened.plaintext is not None
        return opened.plaintext.decode()

    def _key_named(self, guest: GuestProtocol) -> OctKey:
        key = self._ring.get(guest.headers().get("kid"))
        if key is None:
            raise Unsealed("sealed under a key this ring does not list")
        return key


def link_sealer(value: SecretStr, *, setting: str) -> Sealer:
    """The sealer of the representative's link token, from the ring setting subsidy and notify share."""
    return Sealer(KeyRing.parse(value, use=LINK_SEAL, setting=setting))


def _derived(secret: str, use: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=f"jobbro {use}".encode()).derive(secret.encode())
