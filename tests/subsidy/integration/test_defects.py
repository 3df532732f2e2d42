"""Defects found from outside (issue #15), each shown through the API: dates that drifted (D1), starts before the
decision (D4), approvals confirmation would refuse (D5), changes that break a rule (D3).

The module's rule data holds wage-subsidy rates for 2018 only, so no rate is in force for any start it uses.
"""

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from contracts.benefits import TargetGroup
from contracts.envelope import Event
from contracts.subsidy import TOPIC, PlacementChangeRejected
from jobbro.testing import read_events
from rules import REPOSITORY_RULES_DIR, months_later
from services.subsidy.schemas import confirmation_document
from services.subsidy.signing import sign
from tests.subsidy.factories import (
    TODAY,
    Employer,
    assessed,
    internship,
    plan_checked,
    random_cpr,
    random_digits,
    wage_subsidy,
)
from tests.subsidy.integration.conftest import Subsidy


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copied = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(REPOSITORY_RULES_DIR, copied)
    for rates in (copied / "subsidy_rates").glob("*.toml"):
        if rates.name != "2018.toml":
            rates.unlink()
    return copied


def _code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["code"]


async def _referred(service: Subsidy, form: dict[str, Any], employer: Employer) -> tuple[dict[str, Any], str]:
    """Submit, answer as benefits and activation (no objections), and wait for the referral."""
    application = await service.submitted(form, employer)
    await service.answer(assessed(application), plan_checked(application))
    found = await service.until(application, service.issuer.caseworker(), "referred")
    return found, f"/v1/applications/{application['id']}/caseworker-decision"


async def test_d4_a_start_before_the_decision_is_referred_and_approved_only_with_a_justified_exception(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    form = internship(employer, start=TODAY - timedelta(days=14), weeks=4)
    application, url = await _referred(service, form, employer)
    caseworker = service.issuer.caseworker()

    plain = await service.client.post(url, json={"approve": True, "remark": "ok"}, headers=caseworker)
    justified = await service.client.post(
        url,
        json={
            "approve": True,
            "remark": "ok",
            "start_exception": {"justification": "The citizen started under the jobcentre's oral offer."},
        },
        headers=caseworker,
    )

    questions = [r["rule"] for r in application["decision"]["results"] if r["outcome"] == "needs_judgement"]
    assert questions == ["start_after_decision"]
    assert _code(plain, 422) == "start_before_decision"
    assert justified.status_code == 200, justified.text
    assert justified.json()["state"] == "approved"
    assert justified.json()["decision"]["start_exception"] == "The citizen started under the jobcentre's oral offer."


async def test_d5_a_caseworker_cannot_approve_what_confirmation_would_refuse(service: Subsidy) -> None:
    employer = service.pki.employer()
    application, url = await _referred(service, wage_subsidy(employer), employer)
    caseworker = service.issuer.caseworker()

    approved = await service.client.post(url, json={"approve": True, "remark": "ok"}, headers=caseworker)
    rejected = await service.client.post(url, json={"approve": False, "remark": "no rate"}, headers=caseworker)

    assert _code(approved, 422) == "subsidy_rate_unknown"
    assert rejected.json()["state"] == "rejected", rejected.text


async def test_d1_an_eight_week_internship_over_50_unemployed_twelve_months_on_the_start_is_approved(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    start = TODAY + timedelta(days=30)
    since = months_later(start, -12)  # 12 months on the start date; 52 whole weeks count back to a later day
    form = internship(employer, cpr=random_cpr(date(1970, 2, 3)), start=start, weeks=8)
    application = await service.submitted(form, employer)
    answer = assessed(application, target_group=TargetGroup.DAGPENGE, max_weeks=8).model_copy(
        update={"assessed_on": start, "unemployed_weeks": (start - since).days // 7, "unemployed_since": since}
    )

    await service.answer(answer, plan_checked(application))
    decided = await service.until(application, service.issuer.caseworker(), "approved")

    duration = next(r for r in decided["decision"]["results"] if r["rule"] == "max_duration")
    assert duration["outcome"] == "passed" and "8 weeks" in duration["reason"]


async def test_activations_plan_checks_carry_their_rule_set_version(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)
    checked = plan_checked(application).model_copy(update={"rule_set_version": "plan-checks-2018.1"})

    await service.answer(assessed(application), checked)
    decided = await service.until(application, service.issuer.caseworker(), "approved")

    by_activation = {
        r["rule"]: r["rule_set_version"] for r in decided["decision"]["results"] if r["evaluated_by"] == "activation"
    }
    assert by_activation == {"not_latest_employer": "plan-checks-2018.1", "no_plan_overlap": "plan-checks-2018.1"}
    assert "plan-checks-2018.1" in decided["decision"]["rule_set_versions"]


async def _approved(service: Subsidy, form: dict[str, Any], employer: Employer) -> dict[str, Any]:
    """Submitted for a citizen on sickness benefit (up to 13 weeks) and approved by the rules."""
    application = await service.submitted(form, employer)
    await service.answer(assessed(application, target_group=TargetGroup.SYGEDAGPENGE), plan_checked(application))
    return await service.until(application, service.issuer.employer(employer.cvr), "approved")


async def _confirmed(service: Subsidy, form: dict[str, Any], employer: Employer) -> dict[str, Any]:
    return await _confirm(service, await _approved(service, form, employer), employer)


async def _confirm(service: Subsidy, application: dict[str, Any], employer: Employer) -> dict[str, Any]:
    """The employer's signed final approval of an approved application."""
    document = confirmation_document(UUID(application["id"]), employer.cvr)
    response = await service.client.post(
        f"/v1/applications/{application['id']}/confirmation",
        json={"signature": sign(document, employer.signer.key, [employer.signer.cert])},
        headers=service.issuer.employer(employer.cvr),
    )
    assert response.json()["state"] == "confirmed", response.text
    return response.json()


async def _extend(service: Subsidy, application: dict[str, Any], employer: Employer, days: int) -> httpx.Response:
    new_end = date.fromisoformat(application["terms"]["ends_on"]) + timedelta(days=days)
    return await service.client.post(
        f"/v1/applications/{application['id']}/extension",
        json={"new_end": new_end.isoformat()},
        headers=service.issuer.employer(employer.cvr),
    )


async def test_d3_an_extension_into_the_next_intern_at_a_one_fte_unit_breaks_the_ratio(service: Subsidy) -> None:
    employer = service.pki.employer()
    unit = {"production_unit": random_digits(10), "ordinary_fte": "1.00"}
    start = TODAY + timedelta(days=30)
    first = await _confirmed(service, internship(employer, start=start, weeks=4, **unit), employer)
    await _approved(service, internship(employer, start=start + timedelta(weeks=4), weeks=4, **unit), employer)

    extended = await _extend(service, first, employer, 14)

    assert _code(extended, 422) == "extension_breaks_rule"
    assert "production unit may host 1" in extended.json()["detail"]


async def test_d3_an_extension_into_the_citizens_next_internship_is_refused(service: Subsidy) -> None:
    employer, other = service.pki.employer(), service.pki.employer()
    cpr, start = random_cpr(), TODAY + timedelta(days=30)
    first = await _confirmed(service, internship(employer, cpr=cpr, start=start, weeks=4), employer)
    await _confirmed(service, internship(other, cpr=cpr, start=start + timedelta(weeks=4), weeks=4), other)

    overlapping = await _extend(service, first, employer, 7)
    within = await _extend(service, first, employer, -3)

    assert _code(overlapping, 422) == "extension_breaks_rule"
    assert "overlaps the citizen's internship" in overlapping.json()["detail"]
    assert _code(within, 422) == "extension_not_later"


async def _referred_extension(service: Subsidy, employer: Employer) -> tuple[dict[str, Any], date, httpx.Response]:
    """At a 1-FTE unit full today (another intern starts today) with room over the period, a new application with
    the employer's remark goes to a caseworker: so does the extension by a week of a placement there, which runs on
    its end until the caseworker decides the change through the case's decision. The placement, its end, and the
    answer to the extension."""
    caseworker = service.issuer.caseworker()
    unit = {"production_unit": random_digits(10), "ordinary_fte": "1.00"}
    await service.submitted(internship(employer, start=TODAY, weeks=2, **unit), employer)
    remark = {"ratio_override_remark": "Praktikanten i dag slutter, før denne begynder."}
    form = internship(employer, start=TODAY + timedelta(days=30), weeks=4, **unit, **remark)
    submitted = await service.submitted(form, employer)
    await service.answer(assessed(submitted, target_group=TargetGroup.SYGEDAGPENGE), plan_checked(submitted))
    await service.until(submitted, caseworker, "referred")
    decide = f"/v1/applications/{submitted['id']}/caseworker-decision"
    approved = await service.client.post(
        decide, json={"approve": True, "remark": "Plads i perioden."}, headers=caseworker
    )
    assert approved.json()["state"] == "approved", approved.text
    first = await _confirm(service, approved.json(), employer)
    return first, date.fromisoformat(first["terms"]["ends_on"]), await _extend(service, first, employer, 7)


async def test_d3_a_ratio_breaking_extension_that_a_new_application_would_refer_is_referred_then_decided(
    service: Subsidy,
) -> None:
    employer, caseworker = service.pki.employer(), service.issuer.caseworker()
    first, end, extended = await _referred_extension(service, employer)
    decide = f"/v1/applications/{first['id']}/caseworker-decision"
    again = await _extend(service, first, employer, 3)

    assert extended.status_code == 200, extended.text
    waiting = extended.json()
    assert (waiting["state"], waiting["terms"]["ends_on"]) == ("confirmed", end.isoformat())
    assert waiting["pending_change"]["kind"] == "extension"
    assert waiting["pending_change"]["terms"]["ends_on"] == (end + timedelta(days=7)).isoformat()
    assert [q["rule"] for q in waiting["pending_change"]["questions"]] == ["ratio"]
    assert _code(again, 422) == "change_pending"
    assert first["id"] in await _changes_pending(service, caseworker)

    decided = await service.client.post(decide, json={"approve": True, "remark": "Forlænget."}, headers=caseworker)

    assert decided.status_code == 200, decided.text
    assert decided.json()["pending_change"] is None
    assert decided.json()["terms"]["ends_on"] == (end + timedelta(days=7)).isoformat()
    assert [line["action"] for line in decided.json()["history"]][-2:] == [
        "change_referred",
        "change_approved_by_caseworker",
    ]
    assert first["id"] not in await _changes_pending(service, caseworker)


async def test_a_referred_extension_the_caseworker_rejects_is_published_for_the_employer_to_be_told(
    service: Subsidy,
) -> None:
    first, end, _extended = await _referred_extension(service, service.pki.employer())
    decide = f"/v1/applications/{first['id']}/caseworker-decision"

    rejected = await service.client.post(
        decide, json={"approve": False, "remark": "Ikke begrundet."}, headers=service.issuer.caseworker()
    )

    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["terms"]["ends_on"], rejected.json()["pending_change"]) == (end.isoformat(), None)
    [told] = await _published(service, PlacementChangeRejected, UUID(first["id"]))
    assert (told.change.kind, told.change.new_end, told.remark) == (
        "extension",
        end + timedelta(days=7),
        "Ikke begrundet.",
    )


async def _published(service: Subsidy, kind: type[Event], application_id: UUID) -> list[Any]:
    """The events of `kind` about the application on subsidy's topic, once the outbox has sent one."""
    for _ in range(30):
        found = [
            event
            for _, event in await read_events(
                service.settings.kafka, service.settings.topic_prefix + TOPIC, expect=10**6, timeout=2
            )
            if isinstance(event, kind) and event.application_id == application_id
        ]
        if found:
            return found
    return []


async def _changes_pending(service: Subsidy, caseworker: dict[str, str]) -> list[str]:
    """The caseworker's list of placements whose change waits for a decision."""
    listed = await service.client.get("/v1/applications", params={"change_pending": "true"}, headers=caseworker)
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()["items"]]
