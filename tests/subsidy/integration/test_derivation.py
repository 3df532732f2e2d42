"""A decision explains itself through the API: each rule's version, law and outcome, and every fact with its source
and the event it came from; for the municipality's caseworkers and for auditors only."""

from typing import Any

from contracts import subsidy
from contracts.common import FactSource
from tests.subsidy.factories import assessed, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy


def _facts(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {fact["name"]: fact for fact in rule["facts"]}


async def test_a_caseworker_and_an_auditor_read_how_a_decision_came_about(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    assessment, plan = await service.answer(assessed(application), plan_checked(application))
    caseworker = service.issuer.caseworker("751")
    await service.until(application, caseworker, "referred")
    url = f"/v1/applications/{application['id']}"
    decided = await service.client.post(
        url + "/caseworker-decision", json={"approve": True, "remark": "Attestation checked."}, headers=caseworker
    )
    assert decided.status_code == 200, decided.text
    submitted_id = dict((await service.records(application, expect=1))[0].headers)["ce_id"].decode()

    read = await service.client.get(url + "/derivation", headers=caseworker)
    audited = await service.client.get(url + "/derivation", headers=service.issuer.auditor())
    elsewhere = await service.client.get(url + "/derivation", headers=service.issuer.caseworker("101"))
    by_employer = await service.client.get(url + "/derivation", headers=service.issuer.employer(employer.cvr))

    assert read.status_code == 200, read.text
    derivation = read.json()
    assert audited.json() == derivation
    assert elsewhere.status_code == 404 and by_employer.status_code == 403
    assert derivation["verdict"] == "approved" and derivation["remark"] == "Attestation checked."
    rules = {rule["rule"]: rule for rule in derivation["rules"]}
    ratio = rules["ratio"]
    assert ratio["rule_set_version"] == "ratio-2018.1" and ratio["outcome"] == "passed"
    assert "LBK nr. 701" in ratio["legal_reference"]
    assert _facts(ratio)["ordinary_fte"] | {"value": None} == {
        "name": "ordinary_fte",
        "value": None,
        "source": "employer",
        "event_id": submitted_id,
        "justification": None,
    }
    assert _facts(ratio)["allowed_placements"]["source"] == "rule"
    duration = _facts(rules["max_duration"])
    assert duration["target_group"]["source"] == "benefits"
    assert duration["target_group"]["event_id"] == str(assessment.id)
    assert rules["no_plan_overlap"]["facts"][0]["event_id"] == str(plan.id)
    assert rules["net_additional_employment.public_attestation"]["outcome"] == "needs_judgement"
    caseworker_step = _facts(rules["caseworker_decision"])["verdict"]
    assert caseworker_step["source"] == "caseworker" and caseworker_step["justification"] == "Attestation checked."


async def test_the_decision_event_carries_the_derivation_without_facts_about_the_citizen(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    assessment, _ = await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.caseworker("751"), "referred")

    referred = (await service.published(application, expect=2))[-1]

    assert isinstance(referred, subsidy.ApplicationReferred) and referred.derivation is not None
    steps = {step.rule: {fact.name: fact for fact in step.facts} for step in referred.derivation}
    assert steps["ratio"]["ordinary_fte"].value is not None
    assert steps["ratio"]["ordinary_fte"].source is FactSource.EMPLOYER
    target_group = steps["max_duration"]["target_group"]
    assert target_group.value is None and target_group.event_id == assessment.id
    assert steps["max_duration"]["latest_end"].value is None
    assert all(fact.value is None for fact in steps["no_plan_overlap"].values())
