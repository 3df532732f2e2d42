"""Representative links: signed under a key ring (rotation keeps links in flight), sealed for notify, once, expiring."""

import base64
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import SecretStr

from jobbro.keyring import KeyRing, KeyRingInvalid, Sealer, Unsealed, link_sealer
from services.subsidy.links import SIGNING, LinkRefused, RepresentativeLinks
from tests.subsidy.factories import Issuer

CURRENT = "2026-12:" + "c" * 40
OLDER = "2026-06:" + "o" * 40
RETIRED = "2025-12:" + "r" * 40
SEAL = "seal-1:" + "s" * 40


def _links(*entries: str, seal: str = SEAL) -> RepresentativeLinks:
    return RepresentativeLinks.from_settings(SecretStr(",".join(entries)), SecretStr(seal))


def _now() -> datetime:
    return datetime.now(UTC)


def _token(links: RepresentativeLinks) -> str:
    return links.token(uuid4(), uuid4(), _now() + timedelta(days=14), _now())


def _refusal(links: RepresentativeLinks, token: str, at: datetime | None = None) -> str:
    with pytest.raises(LinkRefused) as refused:
        links.read(token, at or _now())
    assert token not in str(refused.value)
    return refused.value.code


def _header(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def test_a_link_names_its_application_and_request_and_the_kid_of_the_key_that_signed_it() -> None:
    links = _links(CURRENT, OLDER)
    application_id, request_id = uuid4(), uuid4()

    token = links.token(application_id, request_id, _now() + timedelta(days=14), _now())
    link = links.read(token, _now())

    assert (link.application_id, link.request_id) == (application_id, request_id)
    assert _header(token)["kid"] == "2026-12"


def test_a_link_made_under_an_older_key_still_listed_is_accepted_after_rotation() -> None:
    before_rotation = _token(_links(OLDER))

    assert _links(CURRENT, OLDER).read(before_rotation, _now())


def test_a_link_made_under_a_key_removed_from_the_ring_is_refused() -> None:
    under_retired = _token(_links(RETIRED))

    assert _refusal(_links(CURRENT, OLDER), under_retired) == "link_invalid"


def test_a_link_naming_a_listed_kid_but_made_with_another_secret_is_refused() -> None:
    forged = _token(_links("2026-12:" + "f" * 40))

    assert _refusal(_links(CURRENT), forged) == "link_invalid"


def test_refuses_an_expired_link() -> None:
    links = _links(CURRENT)

    assert _refusal(links, _token(links), _now() + timedelta(days=15)) == "link_expired"


@pytest.mark.parametrize("part", [0, 1, 2])
def test_refuses_a_tampered_link(part: int) -> None:
    links = _links(CURRENT)
    pieces = _token(links).split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")

    assert _refusal(links, ".".join(pieces)) == "link_invalid"


def test_a_bearer_token_is_no_link() -> None:
    assert _refusal(_links(CURRENT), Issuer().token("employer", cvr="12345678")) == "link_invalid"


def test_the_sealed_link_is_no_link_and_opens_only_with_the_seal_key() -> None:
    links = _links(CURRENT)
    application_id, request_id = uuid4(), uuid4()
    sealed = links.sealed(application_id, request_id, "rep@firma.example", _now() + timedelta(days=14), _now())

    opened = json.loads(link_sealer(SecretStr(SEAL), setting="t").open(sealed))

    assert _refusal(links, sealed) == "link_invalid"
    assert opened["request_id"] == str(request_id) and opened["to"] == "rep@firma.example"
    assert links.read(opened["token"], _now()).application_id == application_id
    with pytest.raises(Unsealed):
        link_sealer(SecretStr("seal-1:" + "x" * 40), setting="t").open(sealed)
    with pytest.raises(Unsealed):  # the signing ring's secret is derived for another use
        Sealer(KeyRing.parse(SecretStr(CURRENT), use=SIGNING, setting="t")).open(sealed)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("no-kid-here-" + "x" * 40, "kid:secret"),
        ("k:short", "shorter than 32"),
        (f"{CURRENT},{CURRENT}", "listed twice"),
        ("bad kid:" + "x" * 40, "kid:secret"),
        (f"{CURRENT},dev:development-only-link-signing-key", "development-only key"),
    ],
)
def test_a_ring_that_cannot_be_read_is_refused_naming_the_setting_but_no_secret(value: str, complaint: str) -> None:
    with pytest.raises(KeyRingInvalid) as refused:
        KeyRing.parse(SecretStr(value), use=SIGNING, setting="SUBSIDY_LINK_KEYS")

    assert "SUBSIDY_LINK_KEYS" in str(refused.value) and complaint in str(refused.value)
    assert "x" * 32 not in str(refused.value) and "c" * 32 not in str(refused.value)
