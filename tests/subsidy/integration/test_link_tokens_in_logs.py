"""A representative's link carries its token in the query string: no log line and no error may repeat it."""

import logging

import pytest

from tests.subsidy.integration.conftest import Subsidy

MARKER = "Mk7q2ZC4xW9pLr0E"


@pytest.mark.parametrize(
    "token",
    [
        f"eyJhbGciOiJIUzI1NiJ9.{MARKER}.{MARKER}",  # the shape of a link token, not signed by the service
        MARKER,  # not a token at all
        MARKER * 300,  # longer than any token: refused by validation
    ],
    ids=["forged", "garbage", "too_long"],
)
async def test_a_refused_link_token_appears_in_no_log_line_and_no_error(
    service: Subsidy, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        shown = await service.client.get("/v1/representative-approval", params={"token": token})
        answered = await service.client.post("/v1/representative-approval", json={"token": token, "approve": True})

    assert 400 <= shown.status_code < 500 and 400 <= answered.status_code < 500
    assert shown.headers["content-type"] == answered.headers["content-type"] == "application/problem+json"
    logged = caplog.text
    assert "http_request" in logged and "/v1/representative-approval" in logged  # the access lines were written
    assert MARKER not in logged
    assert MARKER not in shown.text and MARKER not in answered.text
