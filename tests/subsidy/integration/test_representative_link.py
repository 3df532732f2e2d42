"""The representative's link on real Kafka and PostgreSQL: nothing on the topic approves, the mailed link does.

The link key ring here lists a current and an older key, as during a rotation.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from contracts import subsidy
from contracts.catalog import EVENT_TYPES
from contracts.envelope import decode
from jobbro.keyring import KeyRing, link_sealer
from services.notify.links import RepresentativeLinks as NotifyLinks
from services.notify.settings import NotifySettings
from services.subsidy.links import SIGNING, RepresentativeLinks
from tests.subsidy.factories import internship
from tests.subsidy.integration.conftest import Subsidy

ApprovalRequested = subsidy.RepresentativeApprovalRequested
CURRENT = "2026-12:" + "c" * 40
OLDER = "2026-06:" + "o" * 40
RETIRED = "2025-12:" + "r" * 40
_COMPACT_JOSE = re.compile(rb"[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}")


@pytest.fixture(scope="module")
def overrides() -> dict[str, Any]:
    return {"link_keys": SecretStr(f"{CURRENT},{OLDER}")}


async def _requested(
    service: Subsidy,
) -> tuple[dict[str, Any], ConsumerRecord, subsidy.RepresentativeApprovalRequested]:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=6), employer)
    records = await service.records(application, expect=2)
    for record in records:
        event = decode(record.headers, record.value, EVENT_TYPES)[1]
        if isinstance(event, subsidy.RepresentativeApprovalRequested):
            return application, record, event
    raise AssertionError("no approval request on the topic")


def _made_under(entry: str, service: Subsidy, event: subsidy.RepresentativeApprovalRequested) -> str:
    """A link token for the event's request, made under the key `entry` (as an earlier deployment would have)."""
    seal = link_sealer(service.settings.link_seal_keys, setting="test")
    links = RepresentativeLinks(KeyRing.parse(SecretStr(entry), use=SIGNING, setting="test"), seal)
    now = datetime.now(UTC)
    return links.token(event.application_id, event.request_id, now + timedelta(days=14), now)


def _service_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the service logged (the test's own HTTP client logs the URLs it calls: not the service's log)."""
    return "\n".join(str(record.msg) for record in caplog.records if not record.name.startswith("httpx"))


async def _state(service: Subsidy, application: dict[str, Any]) -> str:
    return (await service.view(application, service.issuer.caseworker()))["state"]


async def test_nothing_the_approval_record_carries_approves_or_shows_the_application(service: Subsidy) -> None:
    application, record, event = await _requested(service)
    raw = record.value + b"".join(value for _, value in record.headers)

    assert b"token=" not in raw and b"/v1/representative-approval" not in raw and b"http" not in record.value
    assert event.approval_url is None and event.sealed_link
    candidates = {match.decode() for match in _COMPACT_JOSE.findall(raw)}
    assert event.sealed_link in candidates
    for candidate in candidates:
        shown = await service.client.get("/v1/representative-approval", params={"token": candidate})
        answered = await service.client.post("/v1/representative-approval", json={"token": candidate, "approve": True})
        assert (shown.status_code, answered.status_code) == (403, 403), candidate
        assert candidate not in shown.text + answered.text
    assert await _state(service, application) == "awaiting_representative"


async def test_the_link_notify_mails_shows_and_approves_the_application(service: Subsidy) -> None:
    """Notify's own code opens the seal with the key it shares with subsidy (both development defaults here)."""
    application, _, event = await _requested(service)
    notify = NotifySettings(portal_url="https://jobbro.example")
    mailed = NotifyLinks.from_settings(notify.link_seal_keys, notify.link_url).opened(event).approval_url
    assert mailed is not None and mailed.startswith("https://jobbro.example/representative?token=")  # the portal's page
    link = urlsplit(mailed)

    token = link.query.removeprefix("token=")  # what the portal's page sends on
    shown = await service.client.get("/v1/representative-approval", headers={"X-Approval-Token": token})
    answered = await service.client.post("/v1/representative-approval", json={"token": token, "approve": True})

    assert shown.status_code == 200 and shown.json()["application_id"] == application["id"]
    assert answered.status_code == 200, answered.text
    assert await _state(service, application) == "assessing"


async def test_a_client_may_send_the_token_in_a_header_instead_of_the_url(service: Subsidy) -> None:
    application, _, event = await _requested(service)
    token = service.link_token(event)

    shown = await service.client.get("/v1/representative-approval", headers={"X-Approval-Token": token})
    missing = await service.client.get("/v1/representative-approval")

    assert shown.status_code == 200 and shown.json()["application_id"] == application["id"]
    assert (missing.status_code, missing.json()["code"]) == (401, "link_missing")
    spec = (await service.client.get("/openapi.json")).json()
    parameters = spec["paths"]["/v1/representative-approval"]["get"]["parameters"]
    assert {("query", "token"), ("header", "x-approval-token")} <= {(p["in"], p["name"].lower()) for p in parameters}


async def test_a_link_made_under_an_older_key_still_in_the_ring_is_accepted(service: Subsidy) -> None:
    application, _, event = await _requested(service)
    older = _made_under(OLDER, service, event)

    shown = await service.client.get("/v1/representative-approval", headers={"X-Approval-Token": older})
    answered = await service.client.post("/v1/representative-approval", json={"token": older, "approve": True})

    assert shown.status_code == 200 and answered.status_code == 200, answered.text
    assert await _state(service, application) == "assessing"


async def test_a_link_made_under_a_key_removed_from_the_ring_is_refused_and_never_echoed(
    service: Subsidy, caplog: pytest.LogCaptureFixture
) -> None:
    application, _, event = await _requested(service)
    retired = _made_under(RETIRED, service, event)

    shown = await service.client.get("/v1/representative-approval", params={"token": retired})
    answered = await service.client.post("/v1/representative-approval", json={"token": retired, "approve": True})

    assert (shown.status_code, answered.status_code) == (403, 403)
    assert answered.json()["code"] == "link_invalid"
    assert retired not in shown.text + answered.text + _service_log(caplog)
    assert await _state(service, application) == "awaiting_representative"


async def test_no_problem_or_log_repeats_a_link_token(service: Subsidy, caplog: pytest.LogCaptureFixture) -> None:
    application, _, event = await _requested(service)
    token = service.link_token(event)
    header, claims, mac = token.split(".")
    tampered = f"{header}.{claims}.{mac[:-2]}{'AA' if not mac.endswith('AA') else 'BB'}"
    too_long = token + "x" * 5000

    answers = [
        await service.client.post("/v1/representative-approval", json={"token": tampered, "approve": True}),
        await service.client.get("/v1/representative-approval", params={"token": too_long}),
        await service.client.post("/v1/representative-approval", json={"token": too_long, "approve": True}),
        await service.client.post("/v1/representative-approval", json={"token": token, "approve": "maybe"}),
        await service.client.post("/v1/representative-approval", json={"token": token, "approve": True}),
        await service.client.post("/v1/representative-approval", json={"token": token, "approve": True}),
    ]

    assert [a.status_code for a in answers] == [403, 422, 422, 422, 200, 409]
    for answer in answers[:4] + answers[5:]:
        assert mac not in answer.text and mac[:-2] not in answer.text
    assert "application_submitted" in _service_log(caplog)  # the service's log is what is read here
    assert mac[:-2] not in _service_log(caplog)
    assert UUID(application["id"])
