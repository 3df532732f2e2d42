"""The development CA's command line: the files it writes show every refusal, and its signatures verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.subsidy.devca import main
from services.subsidy.signing import RefusalReason, SignatureRefused, TrustStore, verify

APPLICATION = {"application_id": "app-cli", "cvr": "12345678", "scheme": "internship", "weekly_hours": 37}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("devca")
    assert main(["make", "--out", str(out)]) == 0
    (out / "app.json").write_text(json.dumps(APPLICATION))
    return out


def _sign_with(pki_dir: Path, name: str) -> str:
    out = pki_dir / f"{name}.jws"
    args = ["sign", "--key", str(pki_dir / f"{name}.key.pem"), "--chain", str(pki_dir / f"{name}.pem")]
    assert main([*args, "--document", str(pki_dir / "app.json"), "--out", str(out)]) == 0
    return out.read_text()


def _trust(pki_dir: Path) -> TrustStore:
    return TrustStore.from_pem((pki_dir / "ca.pem").read_bytes(), crls=[(pki_dir / "crl.pem").read_bytes()])


@pytest.mark.parametrize("name, cvr", [("employer-12345678", "12345678"), ("employer-87654321", "87654321")])
def test_signature_made_by_the_cli_with_an_employer_certificate_verifies(pki_dir: Path, name: str, cvr: str) -> None:
    verified = verify(_sign_with(pki_dir, name), None, cvr, _trust(pki_dir), datetime.now(UTC))

    assert verified.document == APPLICATION


@pytest.mark.parametrize(
    "name, reason",
    [
        ("revoked-12345678", RefusalReason.REVOKED),
        ("expired-12345678", RefusalReason.CERT_EXPIRED),
        ("not-yet-valid-12345678", RefusalReason.CERT_NOT_YET_VALID),
        ("unknown-ca-12345678", RefusalReason.CHAIN_UNTRUSTED),
    ],
)
def test_cli_certificates_meant_to_fail_are_refused_with_their_reason(
    pki_dir: Path, name: str, reason: RefusalReason
) -> None:
    with pytest.raises(SignatureRefused) as refused:
        verify(_sign_with(pki_dir, name), APPLICATION, "12345678", _trust(pki_dir), datetime.now(UTC))

    assert refused.value.reason == reason


def test_cli_verify_prints_the_reason_and_fails_for_a_revoked_signer(
    pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sign_with(pki_dir, "revoked-12345678")
    args = ["--cvr", "12345678", "--ca", str(pki_dir / "ca.pem"), "--crl", str(pki_dir / "crl.pem")]

    assert main(["verify", "--jws", str(pki_dir / "revoked-12345678.jws"), *args]) == 1
    assert "refused: revoked" in capsys.readouterr().out
    assert main(["verify", "--jws", str(pki_dir / "employer-12345678.jws"), *args]) == 0
