"""The employer's digital signature on an application: a JWS over its RFC 8785 canonical JSON, signer chain in ``x5c``.

The format is a compact JWS (RFC 7515) with a fixed protected header: ``alg``, ``typ``, ``x5c`` (the signer's
certificate first, then the certificates that issued it), and the claimed signing time ``sigT`` as JAdES defines it
(ETSI TS 119 182-1: a UTC date-time in seconds, listed in ``crit`` so that a verifier that does not know it refuses).
The payload is the canonical JSON itself, so the stored JWS is the evidence: document and signature, byte for byte.

Verification refuses with one stable reason code per failure and reads nothing itself: trust anchors and CRLs come
from the caller in a ``TrustStore``, the time from the caller as ``now``: the moment the service received the
signature, by its own clock. Checks run in this order, each relying on the ones before it: the token's shape and
``alg`` (before any library sees it), the signature by the ``x5c`` leaf (so every later check reads authenticated
header values), the payload's canonical form, the claimed signing time, validity of every ``x5c`` certificate at
receipt, the chain to an anchor at receipt, the leaf's key usage, revocation at receipt, the CVR binding, and the
expected document.

``sigT`` is the signer's claim, not a trusted timestamp: whoever holds a key whose certificate has expired or been
revoked could backdate it. So nothing is judged at ``sigT``: it is kept as the signer said it, refused only if it
lies in the future, and validity, chain and revocation are judged at receipt (``now``). There is no RFC 3161
timestamp authority; a signature made just before its certificate expired must reach the service before it does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError, ExceededSizeError, JoseError
from joserfc.jwk import ECKey, RSAKey
from joserfc.registry import HeaderParameter

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256", "ES384")
"""Asymmetric algorithms only: ``none`` and HMAC would let anyone holding the token forge it."""

TYP = "application/jobbro-application+jws"
"""Explicit type (RFC 8725 §3.11), so that no other JWS can be passed off as a signed application."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far the claimed signing time may lie ahead of the verifier's clock."""

_HEADER_MEMBERS = frozenset({"alg", "typ", "x5c", "sigT", "crit"})
_SIGT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SIGT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_OCES_SERIAL = re.compile(r"CVR:(\d{8})-UID:.+")
_NTR_IDENTIFIER = re.compile(r"NTRDK-(\d{8})")

_REGISTRY = jws.JWSRegistry(
    header_registry={"sigT": HeaderParameter("Claimed signing time (JAdES)", "str")},
    algorithms=ALLOWED_ALGORITHMS,
)
_REGISTRY.max_header_length = 16_384  # joserfc's default of 512 bytes is too small for any x5c chain

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class RefusalReason(StrEnum):
    """Why a signature was refused; stable codes that callers and events may carry."""

    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    X5C_MISSING = "x5c_missing"
    SIGNATURE_INVALID = "signature_invalid"
    SIGNING_TIME_IN_FUTURE = "signing_time_in_future"
    CERT_EXPIRED = "cert_expired"
    CERT_NOT_YET_VALID = "cert_not_yet_valid"
    CHAIN_UNTRUSTED = "chain_untrusted"
    KEY_USAGE = "key_usage"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    CVR_MISMATCH = "cvr_mismatch"
    PAYLOAD_MISMATCH = "payload_mismatch"


class SignatureRefused(Exception):
    """A signature that does not prove the employer signed this application; ``reason`` says which check failed."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TrustStore:
    """What the verifier trusts: anchors, intermediates it may build paths through, and CRLs from their issuers."""

    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    _signed_by: dict[bytes, tuple[x509.CertificateRevocationList, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.anchors:
            raise ValueError("a trust store needs at least one trust anchor")

    @classmethod
    def from_pem(cls, anchors: bytes, intermediates: bytes = b"", crls: Iterable[bytes] = ()) -> TrustStore:
        """Build from PEM bytes the caller has read: certificate bundles, and one PEM CRL per item."""
        return cls(
            anchors=tuple(x509.load_pem_x509_certificates(anchors)),
            intermediates=tuple(x509.load_pem_x509_certificates(intermediates)) if intermediates.strip() else (),
            crls=tuple(x509.load_pem_x509_crl(crl) for crl in crls),
        )

    def crl_for(self, issuer: x509.Certificate, now: datetime) -> x509.CertificateRevocationList | None:
        """The newest complete CRL that ``issuer`` signed and that is current at ``now``, if the store has one."""
        usable = [
            crl
            for crl in self._complete_crls_from(issuer)
            if crl.last_update_utc <= now and crl.next_update_utc is not None and now < crl.next_update_utc
        ]
        return max(usable, key=lambda crl: crl.last_update_utc, default=None)

    def _complete_crls_from(self, issuer: x509.Certificate) -> tuple[x509.CertificateRevocationList, ...]:
        """The complete CRLs ``issuer`` signed, their signatures checked once per issuer for as long as the store lives.

        Delta and partitioned CRLs are passed over: a serial missing from them says nothing about its status.
        """
        key = issuer.fingerprint(hashes.SHA256())
        if key not in self._signed_by:
            self._signed_by[key] = tuple(
                crl
                for crl in self.crls
                if crl.issuer == issuer.subject
                and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
                and not _has_extension(crl.extensions, x509.DeltaCRLIndicator)
                and not _has_extension(crl.extensions, x509.IssuingDistributionPoint)
            )
        return self._signed_by[key]


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that passed every check, with what the application record keeps about it."""

    jws: str
    """The signature exactly as received: the evidence to store unchanged."""
    signer: str
    """The signer certificate's subject, RFC 4514."""
    cert_serial: int
    fingerprint: str
    """SHA-256 of the signer certificate's DER, hex."""
    signed_at: datetime
    """The claimed signing time (``sigT``), as the signer stated it; never what validity is judged at."""
    alg: str
    payload: bytes
    """The signed RFC 8785 canonical JSON."""
    document: dict[str, Any]

    @property
    def payload_sha256(self) -> str:
        """What identifies the signed document, whoever signed it and however often: SHA-256 of its canonical JSON."""
        return hashlib.sha256(self.payload).hexdigest()


def canonical(document: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON of a document of JSON-native values: the same bytes whatever the key order."""
    return rfc8785.dumps(dict(document))


def sign(
    document: Mapping[str, Any],
    private_key: PrivateKey,
    chain: list[x509.Certificate],
    alg: str = "ES256",
    signed_at: datetime | None = None,
) -> str:
    """Sign ``document`` as compact JWS; ``chain`` is the signer's certificate first, then its issuers.

    ``signed_at`` (timezone-aware, default the current time) becomes ``sigT``, truncated to whole seconds.
    """
    if alg not in ALLOWED_ALGORITHMS:
        raise ValueError(f"alg must be one of {ALLOWED_ALGORITHMS}")
    if not chain or chain[0].public_key() != private_key.public_key():
        raise ValueError("chain must start with the certificate of private_key")
    header = {
        "alg": alg,
        "typ": TYP,
        "x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in chain],
        "sigT": _aware(signed_at or datetime.now(UTC)).astimezone(UTC).strftime(_SIGT_FORMAT),
        "crit": ["sigT"],
    }
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return jws.serialize_compact(header, canonical(document), _jose_key(alg, pem), registry=_REGISTRY)


def verify(
    token: str,
    expected_document: Mapping[str, Any] | None,
    cvr: str,
    trust: TrustStore,
    now: datetime,
) -> VerifiedSignature:
    """Check that the holder of a certificate for ``cvr``, trusted and unrevoked at ``now``, signed this application.

    ``now`` is when the service received the signature (timezone-aware), the time validity, chain and revocation
    are judged at. Raises ``SignatureRefused`` with the reason of the first failed check.
    """
    _aware(now)
    header = _checked_header(token)
    chain = _certificates(header["x5c"])
    leaf = chain[0]
    payload = _verified_payload(token, header["alg"], leaf)
    document = _document(payload)
    signed_at = datetime.strptime(header["sigT"], _SIGT_FORMAT).replace(tzinfo=UTC)
    if signed_at > now + CLOCK_SKEW:
        raise SignatureRefused(RefusalReason.SIGNING_TIME_IN_FUTURE, f"signing time {header['sigT']} is in the future")
    _check_validity(chain, now)
    path = _trusted_path(leaf, chain[1:], trust, now)
    _check_key_usage(leaf)
    _check_revocation(path, trust, now)
    _check_cvr(leaf, cvr)
    if expected_document is not None and canonical(expected_document) != payload:
        raise SignatureRefused(RefusalReason.PAYLOAD_MISMATCH, "the signed document differs from the application")
    return VerifiedSignature(
        jws=token,
        signer=leaf.subject.rfc4514_string(),
        cert_serial=leaf.serial_number,
        fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
        signed_at=signed_at,
        alg=header["alg"],
        payload=payload,
        document=document,
    )


def _checked_header(token: str) -> dict[str, Any]:
    """The protected header, checked against our profile before any library interprets the token."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureRefused(RefusalReason.MALFORMED, "not a compact JWS")
    try:
        header = json.loads(_b64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, "protected header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise SignatureRefused(RefusalReason.MALFORMED, "protected header is not a JSON object")
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise SignatureRefused(RefusalReason.ALG_NOT_ALLOWED, f"alg {header.get('alg')!r} is not allowed")
    if not header.get("x5c"):
        raise SignatureRefused(RefusalReason.X5C_MISSING, "no signer certificate chain in x5c")
    if not parts[1] or not parts[2]:
        raise SignatureRefused(RefusalReason.MALFORMED, "payload or signature is missing")
    if set(header) != _HEADER_MEMBERS:
        raise SignatureRefused(RefusalReason.MALFORMED, f"protected header must have exactly {sorted(_HEADER_MEMBERS)}")
    if header["typ"] != TYP:
        raise SignatureRefused(RefusalReason.MALFORMED, f"typ must be {TYP}")
    if header["crit"] != ["sigT"]:
        raise SignatureRefused(RefusalReason.MALFORMED, "crit must be ['sigT']")
    if not isinstance(header["sigT"], str) or not _SIGT_PATTERN.fullmatch(header["sigT"]):
        raise SignatureRefused(RefusalReason.MALFORMED, "sigT must be a UTC time like 2026-01-31T12:00:00Z")
    return header


def _certificates(x5c: object) -> list[x509.Certificate]:
    """The ``x5c`` chain: standard base64 (not base64url) DER, per RFC 7515 §4.1.6."""
    if not isinstance(x5c, list) or not all(isinstance(item, str) for item in x5c):
        raise SignatureRefused(RefusalReason.MALFORMED, "x5c must be a list of strings")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(item, validate=True)) for item in x5c]
    except (binascii.Error, ValueError) as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, "x5c holds something that is not a DER certificate") from exc


def _verified_payload(token: str, alg: str, leaf: x509.Certificate) -> bytes:
    """The payload, once the signature is proven to be made by the leaf certificate's key."""
    try:
        pem = leaf.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        key = _jose_key(alg, pem)
    except (JoseError, UnsupportedAlgorithm, ValueError) as exc:
        raise SignatureRefused(RefusalReason.SIGNATURE_INVALID, f"the certificate's key cannot make {alg}") from exc
    try:
        return jws.deserialize_compact(token, key, registry=_REGISTRY).payload
    except BadSignatureError as exc:
        raise SignatureRefused(RefusalReason.SIGNATURE_INVALID, "signature does not match header and payload") from exc
    except (DecodeError, ExceededSizeError) as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, f"token cannot be decoded: {exc}") from exc
    except JoseError as exc:
        raise SignatureRefused(RefusalReason.SIGNATURE_INVALID, f"signature cannot be checked: {exc}") from exc


def _document(payload: bytes) -> dict[str, Any]:
    """The signed JSON object; the payload must already be canonical, so that bytes and document say the same."""
    refusal = SignatureRefused(RefusalReason.MALFORMED, "payload is not an RFC 8785 canonical JSON object")
    try:
        document = json.loads(payload)
        if isinstance(document, dict) and canonical(document) == payload:
            return document
    except ValueError as exc:  # JSON, UTF-8 and canonicalisation errors are all ValueErrors
        raise refusal from exc
    raise refusal


def _check_validity(chain: list[x509.Certificate], at: datetime) -> None:
    """Every certificate the signer sent must be valid when the signature is received."""
    for cert in chain:
        subject = cert.subject.rfc4514_string()
        if at > cert.not_valid_after_utc:
            message = f"{subject} expired {cert.not_valid_after_utc:%Y-%m-%d %H:%M}, before it was received {at}"
            raise SignatureRefused(RefusalReason.CERT_EXPIRED, message)
        if at < cert.not_valid_before_utc:
            message = f"{subject} is valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M}, after it was received {at}"
            raise SignatureRefused(RefusalReason.CERT_NOT_YET_VALID, message)


def _trusted_path(
    leaf: x509.Certificate, untrusted: list[x509.Certificate], trust: TrustStore, at: datetime
) -> list[x509.Certificate]:
    """The path from the leaf to a trust anchor, validated at receipt (leaf first, anchor last).

    cryptography's RFC 5280 path builder checks signatures, CA constraints and CA key usage; its end-entity checks
    are TLS rules (EKU serverAuth/clientAuth, SAN), so the leaf's extensions are left to ``_check_key_usage``.
    """
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust.anchors)))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        return verifier.verify(leaf, [*untrusted, *trust.intermediates]).chain
    except VerificationError as exc:
        raise SignatureRefused(RefusalReason.CHAIN_UNTRUSTED, f"no trusted path: {exc}") from exc


def _check_key_usage(leaf: x509.Certificate) -> None:
    """The signer certificate must be an end entity issued for signing (digitalSignature or nonRepudiation)."""
    constraints = _extension(leaf.extensions, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise SignatureRefused(RefusalReason.KEY_USAGE, "a CA certificate may not sign applications")
    usage = _extension(leaf.extensions, x509.KeyUsage)
    if usage is None or not (usage.digital_signature or usage.content_commitment):
        raise SignatureRefused(RefusalReason.KEY_USAGE, "certificate is not issued for digital signatures")


def _check_revocation(path: list[x509.Certificate], trust: TrustStore, now: datetime) -> None:
    """No certificate below the anchor may be revoked; without a current CRL from its issuer, fail closed."""
    for cert, issuer in pairwise(path):
        crl = trust.crl_for(issuer, now)
        if crl is None:
            raise SignatureRefused(
                RefusalReason.REVOCATION_UNKNOWN, f"no current CRL from {issuer.subject.rfc4514_string()}"
            )
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise SignatureRefused(RefusalReason.REVOKED, f"{cert.subject.rfc4514_string()} is revoked")


def _check_cvr(leaf: x509.Certificate, cvr: str) -> None:
    """The certificate must name the application's CVR, and no other, as OCES serialNumber or organizationIdentifier."""
    named = {
        match.group(1)
        for oid, pattern in ((NameOID.SERIAL_NUMBER, _OCES_SERIAL), (NameOID.ORGANIZATION_IDENTIFIER, _NTR_IDENTIFIER))
        for attribute in leaf.subject.get_attributes_for_oid(oid)
        if (match := pattern.fullmatch(str(attribute.value)))
    }
    if named != {cvr}:
        raise SignatureRefused(RefusalReason.CVR_MISMATCH, f"certificate names CVR {sorted(named)}, application {cvr}")


def _jose_key(alg: str, pem: bytes) -> ECKey | RSAKey:
    """The joserfc key for ``alg``; a key of the wrong type is an error here rather than a wrong signature later."""
    return RSAKey.import_key(pem) if alg.startswith(("RS", "PS")) else ECKey.import_key(pem)


def _aware(moment: datetime) -> datetime:
    """A naive datetime would be read as local time, or fail to compare with certificate times: refuse it."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment


def _b64url_decode(segment: str) -> bytes:
    return base64.b64decode(segment + "=" * (-len(segment) % 4), altchars=b"-_", validate=True)


def _extension(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> Any:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _has_extension(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> bool:
    return _extension(extensions, kind) is not None
