"""DEVELOPMENT ONLY certificate authority: test PKI for employer signatures, never a source of real trust.

Real employers sign with MitID Erhverv / OCES certificates; this module makes look-alikes (subject serialNumber
``CVR:<cvr>-UID:<n>``, or organizationIdentifier ``NTRDK-<cvr>``) so that signing and its refusals can be shown and
tested on real keys. Private keys are written unencrypted.

    python -m services.subsidy.devca make --out DIR
    python -m services.subsidy.devca sign --key K --chain C --document app.json --out app.jws
    python -m services.subsidy.devca verify --jws app.jws --cvr 12345678 --ca ca.pem --crl crl.pem
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from services.subsidy.signing import ALLOWED_ALGORITHMS, PrivateKey, SignatureRefused, TrustStore, sign, verify

SIGNING_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
"""What an OCES signing certificate allows: digitalSignature and nonRepudiation."""

_CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: PrivateKey


def new_key(kind: str = "ec") -> PrivateKey:
    """A fresh key: EC P-256 (fast, ES256) or RSA 2048 (RS256/PS256)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(name: str, now: datetime, issuer: Issued | None = None) -> Issued:
    """A root CA, or an intermediate CA when ``issuer`` is given."""
    key = new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jobbro development PKI (not for production)"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0 if issuer else None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    return Issued(cert=builder.sign(signing_key, hashes.SHA256()), key=key)


def issue_employer(
    ca: Issued,
    cvr: str,
    uid: int,
    now: datetime,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    key: PrivateKey | None = None,
    usage: x509.KeyUsage = SIGNING_USAGE,
    organization_identifier: bool = False,
) -> Issued:
    """An employee signing certificate for the company ``cvr``, OCES style unless ``organization_identifier``."""
    key = key or new_key()
    binding = (
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRDK-{cvr}")
        if organization_identifier
        else x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CVR:{cvr}-UID:{uid}")
    )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Development employer {cvr} ApS"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Development signer {uid}"),
            binding,
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from or now - timedelta(days=1))
        .not_valid_after(valid_until or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert=cert, key=key)


def make_crl(
    ca: Issued, revoked: Iterable[x509.Certificate], now: datetime, next_update: timedelta = timedelta(days=7)
) -> x509.CertificateRevocationList:
    """A complete CRL from ``ca`` listing ``revoked``, current from ``now`` until ``now + next_update``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
        )
    return builder.sign(ca.key, hashes.SHA256())


def write_dev_pki(out: Path, now: datetime) -> list[str]:
    """Write a CA, its CRL and employer certificates for every case the verifier refuses; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    ca = make_ca("Jobbro DEVELOPMENT CA", now)
    unknown_ca = make_ca("Unknown DEVELOPMENT CA", now)
    employers = {
        "employer-12345678": issue_employer(ca, "12345678", 1, now),
        "employer-87654321": issue_employer(ca, "87654321", 2, now, organization_identifier=True),
        "revoked-12345678": issue_employer(ca, "12345678", 3, now),
        "expired-12345678": issue_employer(
            ca, "12345678", 4, now, valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=35)
        ),
        "not-yet-valid-12345678": issue_employer(
            ca, "12345678", 5, now, valid_from=now + timedelta(days=30), valid_until=now + timedelta(days=400)
        ),
        "unknown-ca-12345678": issue_employer(unknown_ca, "12345678", 6, now),
    }
    files = {
        "ca.pem": _cert_pem(ca.cert),
        "ca.key.pem": _key_pem(ca.key),
        "crl.pem": make_crl(ca, [employers["revoked-12345678"].cert], now).public_bytes(serialization.Encoding.PEM),
        "unknown-ca.pem": _cert_pem(unknown_ca.cert),
    }
    for name, issued in employers.items():
        files[f"{name}.pem"] = _cert_pem(issued.cert)
        files[f"{name}.key.pem"] = _key_pem(issued.key)
    for name, content in files.items():
        (out / name).write_bytes(content)
    return sorted(files)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m services.subsidy.devca``."""
    args = _parser().parse_args(argv)
    now = datetime.now(UTC)
    if args.command == "make":
        for name in write_dev_pki(args.out, now):
            print(args.out / name)
        return 0
    if args.command == "sign":
        key = serialization.load_pem_private_key(args.key.read_bytes(), password=None)
        chain = x509.load_pem_x509_certificates(args.chain.read_bytes())
        document = json.loads(args.document.read_bytes())
        args.out.write_text(sign(document, key, chain, alg=args.alg))  # type: ignore[arg-type]
        print(args.out)
        return 0
    trust = TrustStore.from_pem(args.ca.read_bytes(), crls=[crl.read_bytes() for crl in args.crl])
    try:
        verified = verify(args.jws.read_text().strip(), None, args.cvr, trust, now)
    except SignatureRefused as refused:
        print(f"refused: {refused.reason} ({refused})")
        return 1
    print(f"valid: signed by {verified.signer} at {verified.signed_at.isoformat()}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.subsidy.devca", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="write a development CA, CRL and employer certificates")
    make.add_argument("--out", type=Path, required=True)
    signing = commands.add_parser("sign", help="sign an application JSON file as JWS")
    signing.add_argument("--key", type=Path, required=True, help="signer's private key, PEM")
    signing.add_argument("--chain", type=Path, required=True, help="signer's certificate first, then issuers, PEM")
    signing.add_argument("--document", type=Path, required=True, help="the application, JSON")
    signing.add_argument("--out", type=Path, required=True)
    signing.add_argument("--alg", default="ES256", choices=ALLOWED_ALGORITHMS)
    checking = commands.add_parser("verify", help="verify a signature and print the reason if refused")
    checking.add_argument("--jws", type=Path, required=True)
    checking.add_argument("--cvr", required=True)
    checking.add_argument("--ca", type=Path, required=True, help="trust anchors, PEM")
    checking.add_argument("--crl", type=Path, action="append", default=[], help="a CRL, PEM; repeatable")
    return parser


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


if __name__ == "__main__":
    sys.exit(main())
