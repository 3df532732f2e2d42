"""A signed document has one effect, and is judged when it arrives: replays and backdated signatures, on the API."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from contracts import subsidy
from services.subsidy.schemas import citizen_document, confirmation_document
from services.subsidy.signing import sign
from tests.subsidy.factories import Employer, assessed, internship, plan_checked, random_cpr
from tests.subsidy.integration.conftest import Subsidy


def _signed(form: dict[str, Any], employer: Employer, **kwargs: Any) -> str:
    return sign(form, employer.signer.key, [employer.signer.cert], **kwargs)


async def _listed(service: Subsidy, employer: Employer) -> list[str]:
    response = await service.client.get("/v1/applications", headers=service.issuer.employer(employer.cvr))
    return [application["id"] for application in response.json()["items"]]


def _made_once(first: httpx.Response, again: httpx.Response) -> str:
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    made = first.json()["id"]
    assert again.json()["id"] == made
    assert again.headers["location"] == f"/v1/applications/{made}"
    return made


async def test_the_same_signed_application_with_another_idempotency_key_makes_no_second_application(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    form = internship(employer)
    signature = _signed(form, employer)

    first = await service.submit(form, employer, key="first-try", signature=signature)
    replay = await service.submit(form, employer, key="a-new-key", signature=signature)
    replay_again = await service.submit(form, employer, key="a-new-key", signature=signature)

    made = _made_once(first, replay)
    assert (replay_again.status_code, replay_again.json()["id"]) == (200, made)
    assert await _listed(service, employer) == [made]
    submitted = [
        e for e in await service.published(first.json(), expect=1) if isinstance(e, subsidy.ApplicationSubmittedV2)
    ]
    assert len(submitted) == 1


async def test_the_identical_document_signed_again_makes_no_second_application(service: Subsidy) -> None:
    """A fresh signature (another time, another employee's certificate) over the same canonical JSON is a replay."""
    employer = service.pki.employer()
    form = internship(employer)
    first = await service.submit(form, employer, signature=_signed(form, employer))
    colleague = service.pki.colleague(employer)
    later = datetime.now(UTC) + timedelta(seconds=2)

    resigned = await service.submit(
        dict(reversed(list(form.items()))), employer, signature=_signed(form, colleague, signed_at=later)
    )

    made = _made_once(first, resigned)
    assert await _listed(service, employer) == [made]


async def test_the_same_signed_application_sent_twice_at_once_makes_one_application(service: Subsidy) -> None:
    employer = service.pki.employer()
    form = internship(employer)
    signature = _signed(form, employer)

    responses = await asyncio.gather(
        *(service.submit(form, employer, key=f"parallel-{n}", signature=signature) for n in range(4))
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await _listed(service, employer)) == 1


async def test_another_document_of_the_same_employer_still_makes_its_own_application(service: Subsidy) -> None:
    employer = service.pki.employer()

    one = await service.submit(internship(employer), employer)
    other = await service.submit(internship(employer, weeks=3), employer)

    assert (one.status_code, other.status_code) == (201, 201)
    assert one.json()["id"] != other.json()["id"]


async def test_refuses_a_certificate_expired_before_receipt_even_with_a_signing_time_claimed_before_it(
    service: Subsidy,
) -> None:
    """The attack: the certificate expired 2 hours ago, the signer claims to have signed 3 hours ago."""
    employer = service.pki.lapsed(expired_ago=timedelta(hours=2))
    form = internship(employer)
    backdated = _signed(form, employer, signed_at=datetime.now(UTC) - timedelta(hours=3))

    response = await service.submit(form, employer, signature=backdated)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "signature_cert_expired"
    assert await _listed(service, employer) == []


async def test_a_final_confirmation_sent_again_or_signed_again_confirms_once(service: Subsidy) -> None:
    """The confirmation names its application, so it cannot be moved to another; a second use changes nothing."""
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, headers, "approved")
    document = confirmation_document(UUID(application["id"]), employer.cvr)
    colleague = service.pki.colleague(employer)
    url = f"/v1/applications/{application['id']}/confirmation"

    first = await service.client.post(url, json={"signature": _signed(document, employer)}, headers=headers)
    again = await service.client.post(url, json={"signature": _signed(document, employer)}, headers=headers)
    resigned = await service.client.post(url, json={"signature": _signed(document, colleague)}, headers=headers)
    elsewhere = await service.submitted(internship(employer), employer)
    moved = await service.client.post(
        f"/v1/applications/{elsewhere['id']}/confirmation",
        json={"signature": _signed(document, employer)},
        headers=headers,
    )

    assert first.status_code == 200, first.text
    assert [r.status_code for r in (again, resigned)] == [409, 409]
    assert moved.status_code in {409, 422}
    events = await service.published(application, expect=3)
    assert [type(e).__name__ for e in events].count("PlacementConfirmed") == 1


async def test_a_citizen_naming_sent_again_or_signed_again_names_once(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    position = await service.submitted(internship(employer, citizen=None), employer)
    await service.until(position, headers, "position_approved")
    cpr = random_cpr()
    document = citizen_document(UUID(position["id"]), employer.cvr, cpr, "S-2291")
    url = f"/v1/applications/{position['id']}/citizen"

    async def name(signed_by: Employer) -> httpx.Response:
        body = {"cpr": cpr, "consent_reference": "S-2291", "signature": _signed(document, signed_by)}
        return await service.client.post(url, json=body, headers=headers)

    first, again, resigned = await name(employer), await name(employer), await name(service.pki.colleague(employer))

    assert first.status_code == 200, first.text
    assert [r.status_code for r in (again, resigned)] == [409, 409]
    events = await service.published(position, expect=2)
    assert [type(e).__name__ for e in events].count("ApplicationSubmittedV2") == 1
