"""Bearer tokens name an employer's CVR or a caseworker's municipality."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from services.subsidy.domain import Role
from services.subsidy.tokens import BearerTokens, TokenRefused
from tests.subsidy.factories import AUDIENCE, ISSUER, Issuer


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def tokens(issuer: Issuer) -> BearerTokens:
    return BearerTokens(ISSUER, AUDIENCE, issuer.public_pem)


def _now() -> datetime:
    """The time of the test itself: tokens are issued now, and collection may be long before."""
    return datetime.now(UTC)


def _refusal(read, token: str) -> str:
    with pytest.raises(TokenRefused) as refused:
        read(token, _now())
    return refused.value.code


def test_an_employer_token_binds_the_actor_to_a_cvr_number(issuer: Issuer, tokens: BearerTokens) -> None:
    actor = tokens.actor(issuer.token("employer", cvr="12345678"), _now())

    assert (actor.role, actor.cvr, actor.municipality) == (Role.EMPLOYER, "12345678", None)


def test_a_caseworker_token_binds_the_actor_to_a_municipality(issuer: Issuer, tokens: BearerTokens) -> None:
    actor = tokens.actor(issuer.token("caseworker", municipality="101"), _now())

    assert (actor.role, actor.cvr, actor.municipality) == (Role.CASEWORKER, None, "101")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"role": "employer"}, "token_invalid"),
        ({"role": "caseworker", "municipality": "12"}, "token_invalid"),
        ({"role": "representative"}, "token_invalid"),
        ({"role": "employer", "cvr": "12345678", "aud": "another-service"}, "token_invalid"),
        ({"role": "employer", "cvr": "12345678", "iss": "someone-else"}, "token_invalid"),
        ({"role": "employer", "cvr": "12345678", "exp": int(datetime.now(UTC).timestamp()) - 3600}, "token_expired"),
    ],
)
def test_refuses_tokens_that_bind_nobody_or_are_not_for_us(
    issuer: Issuer, tokens: BearerTokens, claims: dict, code: str
) -> None:
    role = claims.pop("role")
    assert _refusal(tokens.actor, issuer.token(role, **claims)) == code


def test_a_token_accepted_once_is_refused_once_it_has_expired(issuer: Issuer, tokens: BearerTokens) -> None:
    token = issuer.token("employer", expires_in=timedelta(minutes=10), cvr="12345678")
    tokens.actor(token, _now())

    with pytest.raises(TokenRefused) as refused:
        tokens.actor(token, _now() + timedelta(hours=1))
    assert refused.value.code == "token_expired"


def test_refuses_a_token_from_another_key(tokens: BearerTokens) -> None:
    assert _refusal(tokens.actor, Issuer().token("employer", cvr="12345678")) == "token_invalid"


def test_refuses_an_hmac_token_even_keyed_with_the_issuers_public_key(issuer: Issuer, tokens: BearerTokens) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "role": "employer", "cvr": "12345678", "exp": 2**31}
    signing_input = _b64(b'{"alg":"HS256"}') + "." + _b64(json.dumps(claims).encode())
    mac = hmac.new(issuer.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{_b64(mac)}"

    assert _refusal(tokens.actor, forged) == "token_invalid"


def test_refuses_an_unsigned_token(tokens: BearerTokens) -> None:
    unsigned = "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiZW1wbG95ZXIiLCJjdnIiOiIxMjM0NTY3OCJ9."

    assert _refusal(tokens.actor, unsigned) == "token_invalid"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
