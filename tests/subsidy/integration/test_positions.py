"""Applications for a position on real Kafka and PostgreSQL: the employer's side is decided first, then the
employer names the citizen and the application goes on as any other (stand-ins answer for benefits and activation).
"""

from typing import Any
from uuid import UUID

import httpx

from contracts import subsidy
from services.subsidy.schemas import citizen_document, confirmation_document
from services.subsidy.signing import sign
from tests.subsidy.factories import TODAY, Employer, assessed, internship, plan_checked, random_cpr, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy


def _types(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


def _failed(application: dict[str, Any], decision: str = "position_decision") -> set[str]:
    return {r["rule"] for r in application[decision]["results"] if r["outcome"] == "failed"}


async def _name(
    service: Subsidy, application: dict[str, Any], employer: Employer, cpr: str, *, signed_cpr: str | None = None
) -> httpx.Response:
    """Name the citizen for a position, signed by the employer (over `signed_cpr` to forge a mismatch)."""
    document = citizen_document(UUID(application["id"]), employer.cvr, signed_cpr or cpr, "S-2291")
    body = {
        "cpr": cpr,
        "consent_reference": "S-2291",
        "signature": sign(document, employer.signer.key, [employer.signer.cert]),
    }
    return await service.client.post(
        f"/v1/applications/{application['id']}/citizen", json=body, headers=service.issuer.employer(employer.cvr)
    )


async def _confirm(service: Subsidy, application: dict[str, Any], employer: Employer) -> httpx.Response:
    document = confirmation_document(UUID(application["id"]), employer.cvr)
    return await service.client.post(
        f"/v1/applications/{application['id']}/confirmation",
        json={"signature": sign(document, employer.signer.key, [employer.signer.cert])},
        headers=service.issuer.employer(employer.cvr),
    )


async def test_a_position_approved_by_the_rules_is_filled_decided_and_confirmed(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    position = await service.submitted(internship(employer, citizen=None, employees=4), employer)
    assert (position["state"], position["citizen_ref"]) == ("position_awaiting_representative", None)
    requested = (await service.published(position, expect=2))[1]
    token = service.link_token(requested)
    await service.client.post("/v1/representative-approval", json={"token": token, "approve": True})
    approved_position = await service.until(position, headers, "position_approved")
    assert {r["rule"] for r in approved_position["position_decision"]["results"]} == {
        "ratio",
        "internship_hours",
        "max_duration.any_target_group",
        "start_after_decision",
    }

    cpr = random_cpr()
    named = await _name(service, position, employer, cpr)
    assert named.status_code == 200, named.text
    application = named.json()
    assert application["state"] == "assessing" and application["citizen_ref"]
    await service.answer(assessed(application), plan_checked(application))
    approved = await service.until(application, headers, "approved")
    confirmed = await _confirm(service, application, employer)

    assert confirmed.json()["state"] == "confirmed", confirmed.text
    assert {r["rule"] for r in approved["decision"]["results"]} == {
        "max_duration",
        "not_latest_employer",
        "no_plan_overlap",
        "start_after_decision",
    }
    assert cpr not in named.text
    events = await service.published(position, expect=7)
    assert _types(events) == [
        "PositionApplicationSubmitted",
        "RepresentativeApprovalRequested",
        "RepresentativeApproved",
        "PositionDecided",
        "ApplicationSubmittedV2",
        "ApplicationApproved",
        "PlacementConfirmed",
    ]
    submitted_position, decided, submitted = events[0], events[3], events[4]
    assert cpr not in submitted_position.model_dump_json() + decided.model_dump_json() + submitted.model_dump_json()
    assert (decided.verdict, decided.decided_by, decided.reasons) == (
        subsidy.PositionVerdict.APPROVED,
        subsidy.Decider.AUTOMATIC,
        (),
    )
    assert submitted.citizen_ref == application["citizen_ref"]
    assert submitted.period == submitted_position.period
    assert events[5].citizen_ref == application["citizen_ref"]


async def test_a_position_is_rejected_listing_every_failed_rule_and_cannot_be_filled(service: Subsidy) -> None:
    employer = service.pki.employer()
    unit = {"production_unit": "66" + employer.cvr, "ordinary_fte": "4.00"}
    await service.submitted(internship(employer, start=TODAY, weeks=13, **unit), employer)  # waiting for answers
    form = internship(employer, citizen=None, weeks=14, hours="40.00", **unit)

    position = await service.submitted(form, employer)
    named = await _name(service, position, employer, random_cpr())

    assert position["state"] == "position_rejected"
    assert _failed(position) == {"ratio", "internship_hours", "max_duration.any_target_group"}
    assert named.status_code == 409, named.text
    assert (named.json()["code"], named.json()["current_state"]) == ("transition_not_allowed", "position_rejected")
    assert "position rejected" in named.json()["detail"]
    events = await service.published(position, expect=2)
    assert _types(events) == ["PositionApplicationSubmitted", "PositionDecided"]
    assert events[-1].verdict is subsidy.PositionVerdict.REJECTED
    assert {r.rule for r in events[-1].reasons} == _failed(position)


async def test_a_referred_position_is_approved_by_a_caseworker_whose_judgement_stands(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    position = await service.submitted(wage_subsidy(employer, public=True, citizen=None), employer)
    assert position["state"] == "position_referred"

    remark = "Erklæringen er gennemgået; stillingen er ny."
    response = await service.client.post(
        f"/v1/applications/{position['id']}/caseworker-decision",
        json={"approve": True, "remark": remark},
        headers=service.issuer.caseworker(),
    )
    assert response.json()["state"] == "position_approved", response.text
    application = (await _name(service, position, employer, random_cpr())).json()
    await service.answer(assessed(application), plan_checked(application))
    approved = await service.until(application, headers, "approved")

    assert approved["position_decision"]["decided_by"] == "caseworker"
    assert "net_additional_employment.public_attestation" not in {r["rule"] for r in approved["decision"]["results"]}
    events = await service.published(position, expect=5)
    assert _types(events) == [
        "PositionApplicationSubmitted",
        "PositionDecided",
        "PositionDecided",
        "ApplicationSubmittedV2",
        "ApplicationApproved",
    ]
    referred, by_caseworker = events[1], events[2]
    assert referred.verdict is subsidy.PositionVerdict.REFERRED
    assert [r.rule for r in referred.reasons] == ["net_additional_employment.public_attestation"]
    assert (by_caseworker.verdict, by_caseworker.decided_by, by_caseworker.remark) == (
        subsidy.PositionVerdict.APPROVED,
        subsidy.Decider.CASEWORKER,
        remark,
    )


async def test_a_caseworker_rejects_a_referred_position_on_the_questions_weighed(service: Subsidy) -> None:
    employer = service.pki.employer()
    position = await service.submitted(wage_subsidy(employer, public=True, citizen=None), employer)

    response = await service.client.post(
        f"/v1/applications/{position['id']}/caseworker-decision",
        json={"approve": False, "remark": "Nedskæring med uændrede opgaver."},
        headers=service.issuer.caseworker(),
    )

    assert response.json()["state"] == "position_rejected"
    rejected = (await service.published(position, expect=3))[-1]
    assert (rejected.verdict, rejected.decided_by) == (subsidy.PositionVerdict.REJECTED, subsidy.Decider.CASEWORKER)
    assert [r.rule for r in rejected.reasons] == ["net_additional_employment.public_attestation"]


async def test_naming_a_citizen_needs_the_employers_signature_over_that_citizen(service: Subsidy) -> None:
    employer = service.pki.employer()
    position = await service.submitted(internship(employer, citizen=None), employer)
    cpr = random_cpr()

    forged = await _name(service, position, employer, cpr, signed_cpr=random_cpr())
    other = service.pki.employer()
    by_another = await service.client.post(
        f"/v1/applications/{position['id']}/citizen",
        json={"cpr": cpr, "consent_reference": "S-1", "signature": "x.y.z"},
        headers=service.issuer.employer(other.cvr),
    )

    assert (forged.status_code, forged.json()["code"]) == (422, "signature_payload_mismatch")
    assert cpr not in forged.text
    assert by_another.status_code == 404
    assert (await service.view(position, service.issuer.employer(employer.cvr)))["state"] == "position_approved"


async def test_an_approved_position_holds_its_place_under_the_ratio_rule(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    unit = {"production_unit": "77" + employer.cvr, "ordinary_fte": "4.00"}
    position = await service.submitted(internship(employer, citizen=None, **unit), employer)
    named = await service.submitted(internship(employer, **unit), employer)

    await service.answer(assessed(named), plan_checked(named))
    rejected = await service.until(named, headers, "rejected")

    assert position["state"] == "position_approved"
    assert _failed(rejected, "decision") == {"ratio"}


async def test_a_position_withdrawn_before_its_citizen_is_named(service: Subsidy) -> None:
    employer = service.pki.employer()
    position = await service.submitted(internship(employer, citizen=None), employer)

    response = await service.client.post(
        f"/v1/applications/{position['id']}/withdrawal",
        json={"reason": "Stillingen er besat."},
        headers=service.issuer.employer(employer.cvr),
    )

    assert response.json()["state"] == "withdrawn"
    events = await service.published(position, expect=3)
    assert _types(events) == ["PositionApplicationSubmitted", "PositionDecided", "PositionWithdrawn"]
    assert events[-1].withdrawn_by is subsidy.Withdrawer.EMPLOYER
