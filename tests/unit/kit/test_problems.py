"""The problem documents' safety net: whatever a refusal's text holds, no CPR number or token leaves in it."""

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from jobbro.log import CPR_MASK, TOKEN_MASK
from jobbro.problems import problem


def test_a_problem_masks_cpr_numbers_and_tokens_in_its_detail_title_and_extensions() -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    response = problem(
        422,
        "refused",
        "citizen 0101901234 is unknown",
        title=f"refused 010190-1234 with {token}",
        rejected=[{"row": 1, "reason": "cpr 3112991234 already registered"}],
    )

    body = json.loads(response.body)
    assert body["detail"] == f"citizen {CPR_MASK} is unknown"
    assert body["title"] == f"refused {CPR_MASK} with {TOKEN_MASK}"
    assert body["rejected"] == [{"row": 1, "reason": f"cpr {CPR_MASK} already registered"}]
    assert (body["status"], body["code"]) == (422, "refused")


def test_a_problem_keeps_numbers_that_are_not_cpr_numbers() -> None:
    body = json.loads(problem(404, "not_found", "no production unit 1013456789, instruction 12345678901").body)
    assert body["detail"] == "no production unit 1013456789, instruction 12345678901"


@given(birth=st.dates(min_value=date(1858, 1, 1), max_value=date(2057, 12, 31)), serial=st.integers(0, 9999))
def test_no_cpr_number_leaves_in_a_problem_whatever_a_refusal_says(birth: date, serial: int) -> None:
    cpr = f"{birth:%d%m%y}{serial:04d}"
    response = problem(422, "refused", f"not a month: {cpr!r}", rejected=[{"value": f"{cpr[:6]}-{cpr[6:]}"}])
    assert cpr[:6] not in response.body.decode()
