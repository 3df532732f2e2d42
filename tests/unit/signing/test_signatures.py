"""The signature matrix on real keys and certificates: each way a signature can fail is refused with its own code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter

from services.subsidy.devca import Issued, issue_employer, make_ca, make_crl, new_key
from services.subsidy.signing import (
    TYP,
    RefusalReason,
    SignatureRefused,
    TrustStore,
    VerifiedSignature,
    canonical,
    sign,
    verify,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CVR = "12345678"
OTHER_CVR = "87654321"
APPLICATION = {
    "application_id": "app-7f3c",
    "cvr": CVR,
    "p_number": "1003456789",
    "scheme": "wage_subsidy",
    "period": {"start": "2026-04-01", "end": "2026-09-30"},
    "weekly_hours": 37,
    "remark": "Løntilskud, øremærket",
}

ENCIPHER_ONLY = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class Pki:
    ca: Issued
    intermediate: Issued
    signer: Issued
    signer_rsa: Issued
    signer_ntr: Issued
    via_intermediate: Issued
    revoked: Issued
    expired: Issued
    not_yet_valid: Issued
    unknown: Issued
    encipher_only: Issued
    trust: TrustStore


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca = make_ca("Test root CA", NOW)
    intermediate = make_ca("Test issuing CA", NOW, issuer=ca)
    revoked = issue_employer(ca, CVR, 3, NOW)
    return Pki(
        ca=ca,
        intermediate=intermediate,
        signer=issue_employer(ca, CVR, 1, NOW),
        signer_rsa=issue_employer(ca, CVR, 2, NOW, key=new_key("rsa")),
        signer_ntr=issue_employer(ca, CVR, 9, NOW, organization_identifier=True),
        via_intermediate=issue_employer(intermediate, CVR, 4, NOW),
        revoked=revoked,
        expired=issue_employer(
            ca, CVR, 5, NOW, valid_from=NOW - timedelta(days=400), valid_until=NOW - timedelta(days=1)
        ),
        not_yet_valid=issue_employer(ca, CVR, 6, NOW, valid_from=NOW + timedelta(days=1)),
        unknown=issue_employer(make_ca("Unknown CA", NOW), CVR, 7, NOW),
        encipher_only=issue_employer(ca, CVR, 8, NOW, usage=ENCIPHER_ONLY),
        trust=TrustStore(
            anchors=(ca.cert,),
            crls=(make_crl(ca, [revoked.cert], NOW), make_crl(intermediate, [], NOW)),
        ),
    )


def _sign(issued: Issued, *issuers: Issued, alg: str = "ES256", signed_at: datetime = NOW) -> str:
    return sign(APPLICATION, issued.key, [issued.cert, *(i.cert for i in issuers)], alg=alg, signed_at=signed_at)


def _refusal(token: str, trust: TrustStore, cvr: str = CVR, now: datetime = NOW, expected=APPLICATION) -> str:
    with pytest.raises(SignatureRefused) as refused:
        verify(token, expected, cvr, trust, now)
    return refused.value.reason


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _crafted(header: dict, payload: bytes = b'{"cvr":"12345678"}', signature: bytes = b"") -> str:
    """A token assembled by hand, as an attacker would, without any JOSE library."""
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(payload), _b64url(signature)])


def _signed_raw(header: dict, payload: bytes, key: Issued) -> str:
    """A correctly signed token whose header or payload breaks the profile in a way ``sign`` never would."""
    registry = jws.JWSRegistry(header_registry={"sigT": HeaderParameter("signing time", "str")}, algorithms=["ES256"])
    registry.max_header_length = 16_384
    pem = key.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return jws.serialize_compact(header, payload, ECKey.import_key(pem), registry=registry)


def _full_header(issued: Issued) -> dict:
    return {
        "alg": "ES256",
        "typ": TYP,
        "x5c": [base64.b64encode(issued.cert.public_bytes(Encoding.DER)).decode()],
        "sigT": "2026-03-02T10:00:00Z",
        "crit": ["sigT"],
    }


def test_valid_signature_verifies_and_returns_the_signed_application(pki: Pki) -> None:
    token = _sign(pki.signer)

    verified = verify(token, APPLICATION, CVR, pki.trust, NOW + timedelta(minutes=1))

    assert isinstance(verified, VerifiedSignature)
    assert verified.document == APPLICATION
    assert verified.payload == canonical(APPLICATION)
    assert verified.jws == token
    assert verified.signed_at == NOW
    assert verified.cert_serial == pki.signer.cert.serial_number
    assert verified.fingerprint == hashlib.sha256(pki.signer.cert.public_bytes(Encoding.DER)).hexdigest()
    assert "CVR:12345678-UID:1" in verified.signer


def test_signature_verifies_without_expected_document_and_yields_the_signed_one(pki: Pki) -> None:
    assert verify(_sign(pki.signer), None, CVR, pki.trust, NOW).document == APPLICATION


def test_canonical_form_does_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(APPLICATION.items())))
    reordered["period"] = {"end": "2026-09-30", "start": "2026-04-01"}

    assert canonical(reordered) == canonical(APPLICATION)
    assert canonical({"b": 1, "a": [1.0, "æ"]}) == '{"a":[1,"æ"],"b":1}'.encode()


def test_signature_over_reordered_document_verifies_against_original(pki: Pki) -> None:
    token = sign(dict(reversed(list(APPLICATION.items()))), pki.signer.key, [pki.signer.cert], signed_at=NOW)

    assert verify(token, APPLICATION, CVR, pki.trust, NOW).document == APPLICATION


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_signature_verifies(pki: Pki, alg: str) -> None:
    assert verify(_sign(pki.signer_rsa, alg=alg), APPLICATION, CVR, pki.trust, NOW).alg == alg


def test_certificate_naming_cvr_by_organization_identifier_binds_signer(pki: Pki) -> None:
    assert verify(_sign(pki.signer_ntr), APPLICATION, CVR, pki.trust, NOW).document == APPLICATION


def test_chain_through_intermediate_sent_in_x5c_verifies(pki: Pki) -> None:
    token = _sign(pki.via_intermediate, pki.intermediate)

    assert verify(token, APPLICATION, CVR, pki.trust, NOW).document == APPLICATION


def test_chain_through_intermediate_known_to_trust_store_verifies(pki: Pki) -> None:
    trust = replace(pki.trust, intermediates=(pki.intermediate.cert,))

    assert verify(_sign(pki.via_intermediate), APPLICATION, CVR, trust, NOW).document == APPLICATION


def test_refuses_tampered_payload_as_signature_invalid(pki: Pki) -> None:
    header, _, signature = _sign(pki.signer).split(".")
    forged = canonical({**APPLICATION, "weekly_hours": 20})

    assert _refusal(f"{header}.{_b64url(forged)}.{signature}", pki.trust) == RefusalReason.SIGNATURE_INVALID


def test_refuses_tampered_signing_time_as_signature_invalid(pki: Pki) -> None:
    header, payload, signature = _sign(pki.signer).split(".")
    backdated = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    backdated["sigT"] = "2026-03-01T09:00:00Z"

    token = f"{_b64url(json.dumps(backdated).encode())}.{payload}.{signature}"

    assert _refusal(token, pki.trust) == RefusalReason.SIGNATURE_INVALID


def test_refuses_signature_by_a_key_other_than_the_certificates(pki: Pki) -> None:
    header, payload, _ = _sign(pki.signer).split(".")
    _, _, other_signature = _sign(pki.signer_ntr).split(".")

    assert _refusal(f"{header}.{payload}.{other_signature}", pki.trust) == RefusalReason.SIGNATURE_INVALID


def test_refuses_certificate_of_another_company_as_cvr_mismatch(pki: Pki) -> None:
    assert _refusal(_sign(pki.signer), pki.trust, cvr=OTHER_CVR) == RefusalReason.CVR_MISMATCH


def test_refuses_certificate_expired_at_signing_time(pki: Pki) -> None:
    assert _refusal(_sign(pki.expired), pki.trust) == RefusalReason.CERT_EXPIRED


def test_refuses_certificate_expired_before_receipt_whatever_signing_time_the_signer_claims(pki: Pki) -> None:
    """The attack: a certificate that expired 2 hours ago, and a signing time claimed 3 hours back."""
    lapsed = issue_employer(
        pki.ca, CVR, 10, NOW, valid_from=NOW - timedelta(days=400), valid_until=NOW - timedelta(hours=2)
    )
    backdated = _sign(lapsed, signed_at=NOW - timedelta(hours=3))

    assert _refusal(backdated, pki.trust) == RefusalReason.CERT_EXPIRED


def test_keeps_the_claimed_signing_time_but_judges_validity_at_receipt(pki: Pki) -> None:
    claimed = NOW - timedelta(hours=3)

    verified = verify(_sign(pki.signer, signed_at=claimed), APPLICATION, CVR, pki.trust, NOW)

    assert verified.signed_at == claimed


def test_refuses_certificate_not_yet_valid_at_signing_time(pki: Pki) -> None:
    assert _refusal(_sign(pki.not_yet_valid), pki.trust) == RefusalReason.CERT_NOT_YET_VALID


def test_refuses_certificate_listed_in_issuers_crl_as_revoked(pki: Pki) -> None:
    assert _refusal(_sign(pki.revoked), pki.trust) == RefusalReason.REVOKED


def test_refuses_chain_through_intermediate_revoked_by_root(pki: Pki) -> None:
    crls = (make_crl(pki.ca, [pki.intermediate.cert], NOW), make_crl(pki.intermediate, [], NOW))

    token = _sign(pki.via_intermediate, pki.intermediate)

    assert _refusal(token, replace(pki.trust, crls=crls)) == RefusalReason.REVOKED


def test_refuses_certificate_from_unknown_ca_as_chain_untrusted(pki: Pki) -> None:
    assert _refusal(_sign(pki.unknown), pki.trust) == RefusalReason.CHAIN_UNTRUSTED


def test_refuses_chain_missing_its_intermediate_as_chain_untrusted(pki: Pki) -> None:
    assert _refusal(_sign(pki.via_intermediate), pki.trust) == RefusalReason.CHAIN_UNTRUSTED


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS512", "ES512", "EdDSA"])
def test_refuses_algorithm_outside_allow_list_before_parsing_further(alg: str) -> None:
    trust = TrustStore(anchors=(make_ca("Any CA", NOW).cert,))

    assert _refusal(_crafted({"alg": alg}), trust) == RefusalReason.ALG_NOT_ALLOWED


def test_refuses_hs256_token_keyed_with_the_signers_public_key(pki: Pki) -> None:
    """The classic algorithm confusion attack: HMAC keyed with a public key that the verifier also holds."""
    header = {**_full_header(pki.signer), "alg": "HS256"}
    secret = pki.signer.cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(canonical(APPLICATION))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

    assert _refusal(f"{signing_input}.{_b64url(mac)}", pki.trust) == RefusalReason.ALG_NOT_ALLOWED


def test_refuses_validly_signed_token_without_x5c(pki: Pki) -> None:
    header = {key: value for key, value in _full_header(pki.signer).items() if key != "x5c"}

    token = _signed_raw(header, canonical(APPLICATION), pki.signer)

    assert _refusal(token, pki.trust) == RefusalReason.X5C_MISSING


def test_refuses_certificate_not_issued_for_signing_as_key_usage(pki: Pki) -> None:
    assert _refusal(_sign(pki.encipher_only), pki.trust) == RefusalReason.KEY_USAGE


def test_refuses_signature_made_with_a_ca_key_as_key_usage(pki: Pki) -> None:
    assert _refusal(_sign(pki.ca), pki.trust) == RefusalReason.KEY_USAGE


def test_refuses_when_no_crl_from_the_issuer_is_available(pki: Pki) -> None:
    assert _refusal(_sign(pki.signer), replace(pki.trust, crls=())) == RefusalReason.REVOCATION_UNKNOWN


def test_refuses_when_the_issuers_crl_is_out_of_date(pki: Pki) -> None:
    stale = make_crl(pki.ca, [], NOW - timedelta(days=30))

    assert _refusal(_sign(pki.signer), replace(pki.trust, crls=(stale,))) == RefusalReason.REVOCATION_UNKNOWN


def test_ignores_crl_not_signed_by_the_issuer(pki: Pki) -> None:
    impostor = make_ca("Test root CA", NOW)  # same name as the real root, different key
    assert impostor.cert.subject == pki.ca.cert.subject

    trust = replace(pki.trust, crls=(make_crl(impostor, [], NOW),))

    assert _refusal(_sign(pki.revoked), trust) == RefusalReason.REVOCATION_UNKNOWN


def test_refuses_signing_time_in_the_future(pki: Pki) -> None:
    token = _sign(pki.signer, signed_at=NOW + timedelta(hours=1))

    assert _refusal(token, pki.trust, now=NOW) == RefusalReason.SIGNING_TIME_IN_FUTURE


def test_refuses_signature_over_another_document_as_payload_mismatch(pki: Pki) -> None:
    other = {**APPLICATION, "application_id": "app-0000"}

    assert _refusal(_sign(pki.signer), pki.trust, expected=other) == RefusalReason.PAYLOAD_MISMATCH


def test_refuses_validly_signed_payload_that_is_not_canonical_json(pki: Pki) -> None:
    token = _signed_raw(_full_header(pki.signer), b'{"cvr": "12345678"}', pki.signer)

    assert _refusal(token, pki.trust, expected=None) == RefusalReason.MALFORMED


_PROFILE = {"alg": "ES256", "x5c": ["AA=="], "typ": TYP, "sigT": "2026-03-02T10:00:00Z", "crit": ["sigT"]}


def _profile_with(**changes: object) -> dict:
    """The profile header with members changed, or dropped where the change is ``None``."""
    return {key: value for key, value in {**_PROFILE, **changes}.items() if value is not None}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not a jws", id="no-dots"),
        pytest.param("a.b.c.d.e", id="five-parts"),
        pytest.param("!!!.e30.c2ln", id="header-not-base64url"),
        pytest.param(_crafted(["ES256"]), id="header-not-object"),
        pytest.param(_crafted(_PROFILE, signature=b"x"), id="x5c-not-a-certificate"),
        pytest.param(_crafted(_profile_with(typ="JWT"), signature=b"x"), id="foreign-typ"),
        pytest.param(_crafted(_profile_with(sigT="yesterday"), signature=b"x"), id="sigT-not-a-time"),
        pytest.param(_crafted(_profile_with(crit=None), signature=b"x"), id="sigT-not-critical"),
        pytest.param(_crafted(_profile_with(b64=False), signature=b"x"), id="unknown-header-member"),
        pytest.param(_crafted(_PROFILE), id="no-signature"),
    ],
)
def test_refuses_token_outside_the_profile_as_malformed(pki: Pki, token: str) -> None:
    assert _refusal(token, pki.trust) == RefusalReason.MALFORMED


def test_refuses_payload_that_is_not_base64url_as_malformed(pki: Pki) -> None:
    header, _, signature = _sign(pki.signer).split(".")

    assert _refusal(f"{header}.!!!.{signature}", pki.trust) == RefusalReason.MALFORMED


def test_verify_rejects_a_naive_clock(pki: Pki) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(_sign(pki.signer), APPLICATION, CVR, pki.trust, NOW.replace(tzinfo=None))


def test_sign_rejects_a_chain_that_does_not_start_with_the_signers_certificate(pki: Pki) -> None:
    with pytest.raises(ValueError, match="chain must start"):
        sign(APPLICATION, pki.signer.key, [pki.signer_ntr.cert])


def test_trust_store_loads_anchors_intermediates_and_crls_from_pem(pki: Pki) -> None:
    trust = TrustStore.from_pem(
        pki.ca.cert.public_bytes(Encoding.PEM),
        intermediates=pki.intermediate.cert.public_bytes(Encoding.PEM),
        crls=[crl.public_bytes(Encoding.PEM) for crl in pki.trust.crls],
    )

    assert verify(_sign(pki.via_intermediate), APPLICATION, CVR, trust, NOW).document == APPLICATION
    assert _refusal(_sign(pki.revoked), trust) == RefusalReason.REVOKED
