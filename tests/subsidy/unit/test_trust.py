"""The trust files are parsed once, and again as soon as one of them changes."""

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from services.subsidy.devca import make_crl
from services.subsidy.signing import RefusalReason, SignatureRefused, sign, verify
from services.subsidy.trust import TrustFiles
from tests.subsidy.factories import Employer, make_pki

DOCUMENT = {"application": "any"}


def _verify(files: TrustFiles, employer: Employer) -> None:
    token = sign(DOCUMENT, employer.signer.key, [employer.signer.cert])
    verify(token, DOCUMENT, employer.cvr, files.current(), datetime.now(UTC))


def _write_in_place(path: Path, content: bytes) -> None:
    path.write_bytes(content)


def _write_by_rename(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def test_unchanged_files_are_parsed_once(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    files = TrustFiles(pki.anchors, crls=(pki.crl,))

    assert files.current() is files.current()


@pytest.mark.parametrize("write", [_write_in_place, _write_by_rename])
def test_a_new_crl_counts_from_the_next_signature(tmp_path: Path, write: Callable[[Path, bytes], None]) -> None:
    pki = make_pki(tmp_path)
    files = TrustFiles(pki.anchors, crls=(pki.crl,))
    employer = pki.employer()
    _verify(files, employer)

    crl = make_crl(pki.ca, [pki.revoked.cert, employer.signer.cert], datetime.now(UTC))
    write(pki.crl, crl.public_bytes(Encoding.PEM))

    with pytest.raises(SignatureRefused) as refused:
        _verify(files, employer)
    assert refused.value.reason is RefusalReason.REVOKED


def test_a_missing_file_is_an_error_not_the_last_trust_read(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    files = TrustFiles(pki.anchors, crls=(pki.crl,))
    files.current()

    pki.crl.unlink()

    with pytest.raises(FileNotFoundError):
        files.current()
