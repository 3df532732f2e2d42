"""The decision saga on real Kafka and PostgreSQL: stand-ins for benefits and activation publish real answers."""

from dataclasses import replace as copy_with
from datetime import timedelta

from contracts import subsidy
from contracts.activation import ConflictKind
from contracts.envelope import encode
from jobbro.testing import produce
from tests.subsidy.factories import TODAY, assessed, internship, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy


def _types(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


async def test_approves_after_the_representative_and_both_answers(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    form = internship(employer, employees=12)
    application = await service.submitted(form, employer)
    assert application["state"] == "awaiting_representative"

    submitted, requested = await service.published(application, expect=2)
    assert form["citizen"]["cpr"] not in submitted.model_dump_json()
    assert submitted.citizen_ref == application["citizen_ref"]
    assert requested.approval_url is None and requested.sealed_link
    answer = {"token": service.link_token(requested), "approve": True}
    assert (await service.client.post("/v1/representative-approval", json=answer)).status_code == 200
    await service.answer(assessed(application), plan_checked(application))

    approved = await service.until(application, headers, "approved")
    events = await service.published(application, expect=4)

    assert _types(events) == [
        "ApplicationSubmittedV2",
        "RepresentativeApprovalRequested",
        "RepresentativeApproved",
        "ApplicationApproved",
    ]
    assert events[-1].decided_by is subsidy.Decider.AUTOMATIC
    assert all(result.passed for result in events[-1].rule_results)
    rules = {result["rule"] for result in approved["decision"]["results"]}
    own = {"ratio", "internship_hours", "max_duration", "start_after_decision"}
    assert rules == own | {"not_latest_employer", "no_plan_overlap"}
    assert approved["decision"]["rule_set_versions"] == ["internship-2018.1", "ratio-2018.1"]


async def test_answers_before_the_representative_wait_for_the_representative(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer, employees=3), employer)
    await service.answer(plan_checked(application), assessed(application))
    waiting = await service.eventually(application, headers, lambda found: all(found["answers"].values()))

    assert waiting["state"] == "awaiting_representative"
    requested = (await service.published(application, expect=2))[1]
    await service.client.post(
        "/v1/representative-approval", json={"token": service.link_token(requested), "approve": True}
    )
    await service.until(application, headers, "approved")


async def test_answers_out_of_order_and_twice_decide_once(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer), employer)
    prefix, kafka = service.settings.topic_prefix, service.settings.kafka
    _, redelivered = encode(plan_checked(application), source="/test/stand-in")
    redelivered = copy_with(redelivered, topic=prefix + redelivered.topic)

    await produce(kafka, redelivered, redelivered)  # the same event twice: the inbox drops the repeat
    await service.answer(assessed(application))
    await service.answer(assessed(application, eligible=False))  # a second assessment: the first counts

    decided = await service.until(application, headers, "approved")
    events = await service.published(application, expect=2)

    assert _types(events) == ["ApplicationSubmittedV2", "ApplicationApproved"]
    assert [change["action"] for change in decided["history"]].count("citizen_assessed") == 1


async def test_rejects_listing_every_failed_rule(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer, hours="40.00"), employer)

    await service.answer(
        assessed(application, eligible=False, failed=("prior_unemployment",)),
        plan_checked(application, ConflictKind.RECENT_EMPLOYER),
    )
    rejected = await service.until(application, headers, "rejected")
    events = await service.published(application, expect=2)

    failed = {result.rule for result in events[-1].failed_rules}
    assert failed == {"internship_hours", "prior_unemployment", "not_latest_employer"}
    assert {r["rule"] for r in rejected["decision"]["results"] if r["outcome"] == "failed"} == failed


async def test_refers_a_public_employers_attestation_and_a_caseworker_approves(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    referred = await service.until(application, headers, "referred")
    assert [r["rule"] for r in referred["decision"]["results"] if r["outcome"] == "needs_judgement"] == [
        "net_additional_employment.public_attestation"
    ]

    decision = {"approve": True, "remark": "Erklæringen er gennemgået; stillingen er ny."}
    response = await service.client.post(
        f"/v1/applications/{application['id']}/caseworker-decision", json=decision, headers=service.issuer.caseworker()
    )

    assert response.status_code == 200, response.text
    assert response.json()["decision"]["decided_by"] == "caseworker"
    assert response.json()["decision"]["inputs"]["citizen"]["target_group"] == "kontanthjaelp_job_ready"
    events = await service.published(application, expect=3)
    assert _types(events) == ["ApplicationSubmittedV2", "ApplicationReferred", "ApplicationApproved"]
    assert events[-1].decided_by is subsidy.Decider.CASEWORKER
    assert events[-1].remark == decision["remark"]


async def test_a_caseworker_rejects_a_referred_case_naming_the_questions_weighed(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.employer(employer.cvr), "referred")

    response = await service.client.post(
        f"/v1/applications/{application['id']}/caseworker-decision",
        json={"approve": False, "remark": "Nedskæring med uændrede opgaver."},
        headers=service.issuer.caseworker(),
    )

    assert response.json()["state"] == "rejected"
    rejected = (await service.published(application, expect=3))[-1]
    assert [r.rule for r in rejected.failed_rules] == ["net_additional_employment.public_attestation"]


async def test_the_representatives_refusal_ends_the_case(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=5), employer)
    requested = (await service.published(application, expect=2))[1]

    answer = {"token": service.link_token(requested), "approve": False, "reason": "Kollegerne er ikke blevet hørt."}
    response = await service.client.post("/v1/representative-approval", json=answer)
    await service.answer(assessed(application), plan_checked(application))

    assert response.json()["state"] == "declined_by_representative"
    events = await service.published(application, expect=3)
    assert _types(events) == ["ApplicationSubmittedV2", "RepresentativeApprovalRequested", "RepresentativeDeclined"]
    assert events[-1].reason == answer["reason"]


async def test_the_ratio_rule_counts_applications_pending_at_the_production_unit(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    unit = {"production_unit": "55" + employer.cvr, "ordinary_fte": "4.00"}
    await service.submitted(internship(employer, start=TODAY, weeks=13, **unit), employer)  # waiting for answers
    second = await service.submitted(internship(employer, **unit), employer)

    await service.answer(assessed(second), plan_checked(second))
    rejected = await service.until(second, headers, "rejected")

    ratio = next(r for r in rejected["decision"]["results"] if r["rule"] == "ratio")
    assert ratio["outcome"] == "failed"
    assert "would host 2" in ratio["reason"]


async def test_the_ratio_rule_counts_only_placements_overlapping_the_period(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    unit = {"production_unit": "56" + employer.cvr, "ordinary_fte": "4.00"}
    await service.submitted(internship(employer, start=TODAY + timedelta(days=2), weeks=2, **unit), employer)
    later = await service.submitted(internship(employer, start=TODAY + timedelta(days=16), **unit), employer)

    await service.answer(assessed(later), plan_checked(later))
    approved = await service.until(later, headers, "approved")

    ratio = next(r for r in approved["decision"]["results"] if r["rule"] == "ratio")
    assert "hosts at most 1" in ratio["reason"]


async def test_the_ratio_rule_counts_a_placement_starting_within_the_period(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    unit = {"production_unit": "57" + employer.cvr, "ordinary_fte": "4.00"}
    await service.submitted(internship(employer, start=TODAY + timedelta(days=30), **unit), employer)
    earlier = await service.submitted(internship(employer, start=TODAY + timedelta(days=16), **unit), employer)

    await service.answer(assessed(earlier), plan_checked(earlier))
    rejected = await service.until(earlier, headers, "rejected")

    ratio = next(r for r in rejected["decision"]["results"] if r["rule"] == "ratio")
    assert ratio["reason"].startswith(f"busiest on {TODAY + timedelta(days=30)}:")
    assert ratio["reason"].endswith("would host 2")
