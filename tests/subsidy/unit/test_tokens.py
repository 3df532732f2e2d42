"""Representative links work once, then expire (bearer tokens: tests/integration/test_oidc.py)."""

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.subsidy.tokens import RepresentativeLinks, TokenRefused
from tests.subsidy.factories import Issuer

LINK_KEY = "test-link-key-0123456789"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def _now() -> datetime:
    """The time of the test itself: tokens are issued now, and collection may be long before."""
    return datetime.now(UTC)


def _refusal(read, token: str) -> str:
    with pytest.raises(TokenRefused) as refused:
        read(token, _now())
    return refused.value.code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(url: str) -> str:
    return url.split("token=", 1)[1]


def test_a_link_names_its_application_and_request() -> None:
    links = RepresentativeLinks(LINK_KEY, "https://jobbro.example/approve")
    application_id, request_id = uuid4(), uuid4()

    url = links.url(application_id, request_id, _now() + timedelta(days=14), _now())
    link = links.read(_token(url), _now())

    assert url.startswith("https://jobbro.example/approve?token=")
    assert (link.application_id, link.request_id) == (application_id, request_id)


def test_refuses_an_expired_link() -> None:
    links = RepresentativeLinks(LINK_KEY, "https://jobbro.example/approve")
    url = links.url(uuid4(), uuid4(), _now() + timedelta(days=14), _now())

    with pytest.raises(TokenRefused) as refused:
        links.read(_token(url), _now() + timedelta(days=15))
    assert refused.value.code == "link_expired"


@pytest.mark.parametrize("part", [0, 1, 2])
def test_refuses_a_tampered_link(part: int) -> None:
    links = RepresentativeLinks(LINK_KEY, "https://jobbro.example/approve")
    token = _token(links.url(uuid4(), uuid4(), _now() + timedelta(days=14), _now()))
    pieces = token.split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")

    assert _refusal(links.read, ".".join(pieces)) == "link_invalid"


def test_refuses_a_link_signed_with_another_key() -> None:
    url = RepresentativeLinks("another-link-key-0123456789", "https://x").url(
        uuid4(), uuid4(), _now() + timedelta(1), _now()
    )

    assert _refusal(RepresentativeLinks(LINK_KEY, "https://x").read, _token(url)) == "link_invalid"


def test_a_bearer_token_is_no_link(issuer: Issuer) -> None:
    links = RepresentativeLinks(LINK_KEY, "https://x")

    assert _refusal(links.read, issuer.token("employer", cvr="12345678")) == "link_invalid"
