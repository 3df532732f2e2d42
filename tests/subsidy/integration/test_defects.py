"""Defects found from outside (issue #15), each shown through the API: dates that drifted (D1), starts before the
decision (D4), approvals confirmation would refuse (D5), changes that break a rule (D3).

The module's rule data holds wage-subsidy rates for 2018 only, so no rate is in force for any start it uses.
"""

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.benefits import TargetGroup
from jobbro.rulebook import REPOSITORY_RULES_DIR, months_later
from tests.subsidy.factories import TODAY, Employer, assessed, internship, plan_checked, random_cpr, wage_subsidy
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
