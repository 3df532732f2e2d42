"""The trust files the signature check reads (anchors, intermediates, CRLs), parsed again only when one changes.

Parsing them for every signature would cost more than the signature itself once a CRL grows. A file's identity,
size and times tell a CRL written over, or dropped in by rename, from the one already parsed, so a revocation
still counts from the next signature, without a restart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from services.subsidy.signing import TrustStore

_Stamp = tuple[int, int, int, int, int]


class TrustFiles:
    """The `TrustStore` the files hold now, kept while every file's stamp stays the same."""

    def __init__(self, anchors: Path, intermediates: Path | None = None, crls: Sequence[Path] = ()) -> None:
        self._anchors = anchors
        self._intermediates = intermediates
        self._crls = tuple(crls)
        self._stamps: tuple[_Stamp, ...] | None = None
        self._store: TrustStore | None = None

    def current(self) -> TrustStore:
        """Stamps are taken before reading: a file changed while it is read is read again next time."""
        stamps = tuple(_stamp(path) for path in self._paths())
        if self._store is None or stamps != self._stamps:
            intermediates = self._intermediates.read_bytes() if self._intermediates else b""
            crls = [path.read_bytes() for path in self._crls]
            self._store = TrustStore.from_pem(self._anchors.read_bytes(), intermediates, crls)
            self._stamps = stamps
        return self._store

    def _paths(self) -> tuple[Path, ...]:
        return (self._anchors, *((self._intermediates,) if self._intermediates else ()), *self._crls)


def _stamp(path: Path) -> _Stamp:
    """What changes when a file is written over (size, times) or replaced (device and inode)."""
    status = os.stat(path)
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
