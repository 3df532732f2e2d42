from datetime import UTC, datetime
from pathlib import Path

from demo.identity import AUDIENCE, ISSUER, ensure_issuer, mint
from services.subsidy.domain import Role
from services.subsidy.tokens import BearerTokens


def test_a_minted_employer_token_is_read_by_the_subsidy_service_as_that_employer(tmp_path: Path) -> None:
    public = ensure_issuer(tmp_path)
    assert ensure_issuer(tmp_path) == public  # the key pair is made once
    token = mint(tmp_path, subject="hansen-vvs", role="employer", cvr="12345678")

    actor = BearerTokens(ISSUER, AUDIENCE, public).actor(token, datetime.now(UTC))

    assert actor.role is Role.EMPLOYER and actor.cvr == "12345678"
