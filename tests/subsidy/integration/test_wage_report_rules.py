"""D2: a wage report for a month that benefits could not pay (no rate or no state-aid cap in force) is refused at
submission, naming the missing rule, instead of being accepted and dead-lettered by benefits.

The module runs the service on rule data whose rates and state-aid cap end in the recent past, so that months
already over lack them (the repository's data covers every month a placement can be reported today).
"""

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from rules import REPOSITORY_RULES_DIR, months_later
from services.subsidy.schemas import confirmation_document
from services.subsidy.signing import sign
from tests.subsidy.factories import TODAY, assessed, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy

START = months_later(TODAY.replace(day=1), -3)
"""The placement's first day: three whole months, all over, before the current one."""
SECOND, THIRD = months_later(START, 1), months_later(START, 2)


def _last_day(month_start: date) -> date:
    return months_later(month_start, 1) - timedelta(days=1)


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rates for the placement's first two months only, the state-aid cap for its first month only."""
    rules = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(REPOSITORY_RULES_DIR, rules)
    for old in (rules / "subsidy_rates").glob("*.toml"):
        old.unlink()
    (rules / "subsidy_rates" / "test.toml").write_text(
        'rule_set_version = "subsidy-rates-test.1"\n'
        f"valid_from = {START}\n"
        f"valid_to = {_last_day(SECOND)}\n"
        'sources = ["test"]\n'
        'legal_reference = { act = "LAB-loven", paragraph = "kapitel 12" }\n'
        "[hourly_rates]\n"
        "private = 86.16\n"
        "public = 125.13\n"
    )
    state_aid = rules / "state_aid" / "2018-01-01.toml"
    state_aid.write_text(
        state_aid.read_text().replace(
            "valid_from = 2018-01-01", f"valid_from = 2018-01-01\nvalid_to = {_last_day(START)}"
        )
    )
    return rules


async def test_refuses_a_wage_report_for_a_month_without_a_rate_or_state_aid_cap_naming_the_rule(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(
        wage_subsidy(employer, start=START, end=months_later(START, 5) - timedelta(days=1)), employer
    )
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, headers, "referred")  # it started before the decision
    url = f"/v1/applications/{application['id']}"
    exception = {"justification": "Hired under the jobcentre's written promise before the application."}
    approved = await service.client.post(
        url + "/caseworker-decision",
        json={"approve": True, "remark": "ok", "start_exception": exception},
        headers=service.issuer.caseworker(),
    )
    assert approved.json()["state"] == "approved", approved.text
    document = confirmation_document(UUID(application["id"]), employer.cvr)
    confirmed = await service.client.post(
        url + "/confirmation",
        json={"signature": sign(document, employer.signer.key, [employer.signer.cert])},
        headers=headers,
    )
    assert confirmed.json()["state"] == "confirmed", confirmed.text

    async def report(month: date) -> httpx.Response:
        body = {"month": f"{month:%Y-%m}", "paid_hours": "150.00", "wage_costs_ore": 3_000_000}
        return await service.client.post(url + "/wage-reports", json=body, headers=headers)

    paid = await report(START)
    no_cap = await report(SECOND)
    no_rate = await report(THIRD)

    assert paid.status_code == 201, paid.text
    _refused(no_cap, "state_aid_not_in_force", f"{SECOND:%Y-%m}")
    _refused(no_rate, "subsidy_rates_not_in_force", f"{THIRD:%Y-%m}")
    shown = await service.view(application, headers)
    assert [r["period"]["start"] for r in shown["wage_reports"]] == [START.isoformat()]
    events = await service.published(application, expect=4)
    assert [type(e).__name__ for e in events].count("WageReportSubmitted") == 1


def _refused(response: httpx.Response, code: str, month: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["detail"].startswith(f"{month} cannot be paid") and body["detail"].endswith(".")
    return body
