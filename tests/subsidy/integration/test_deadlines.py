"""Nothing waits forever: missing answers, or a silent representative, send the case to a caseworker in time; a
placement past its planned end is completed by the clock."""

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from contracts.subsidy import ApplicationReferred, EndKind, PlacementEnded
from services.subsidy import timer
from services.subsidy.schemas import confirmation_document
from services.subsidy.signing import sign
from tests.subsidy.factories import TODAY, assessed, internship, plan_checked
from tests.subsidy.integration.conftest import Subsidy

ANSWER_TIMEOUT = timedelta(seconds=2)
REPRESENTATIVE_DEADLINE = timedelta(seconds=3)


@pytest.fixture(scope="module")
def overrides() -> dict[str, Any]:
    return {
        "answer_timeout": ANSWER_TIMEOUT,
        "representative_deadline": REPRESENTATIVE_DEADLINE,
        "timer_poll_seconds": 0.2,
    }


def _questions(application: dict[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["reason"] for r in application["decision"]["results"] if r["outcome"] == "needs_judgement"}


async def test_refers_a_case_whose_answers_never_come(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)

    referred = await service.until(application, service.issuer.employer(employer.cvr), "referred", timeout=15)

    assert set(_questions(referred)) == {"citizen_assessment", "plan_check"}
    assert referred["history"][-1]["action"] == "referred_after_deadline"
    events = await service.published(application, expect=2)
    assert {r.rule for r in events[-1].reasons} == {"citizen_assessment", "plan_check"}


async def test_refers_with_the_answer_that_came_and_keeps_a_late_one(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer), employer)
    await service.answer(plan_checked(application))

    referred = await service.until(application, headers, "referred", timeout=15)
    assert set(_questions(referred)) == {"citizen_assessment"}
    assert {"not_latest_employer", "no_plan_overlap", "ratio"} <= {r["rule"] for r in referred["decision"]["results"]}

    await service.answer(assessed(application))
    late = await service.eventually(application, headers, lambda found: found["answers"]["citizen_assessed"])
    assert late["state"] == "referred"


async def test_refers_a_case_the_representative_never_answers_and_the_link_then_expires(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=8), employer)
    await service.answer(assessed(application), plan_checked(application))

    referred = await service.until(application, service.issuer.employer(employer.cvr), "referred", timeout=15)
    requested = (await service.published(application, expect=3))[1]
    token = service.link_token(requested)
    await asyncio.sleep(1.1)  # the link's expiry is in whole seconds
    response = await service.client.post("/v1/representative-approval", json={"token": token, "approve": True})

    assert "representative_approval" in _questions(referred)
    assert response.status_code == 410
    assert response.json()["code"] == "link_expired"


async def test_refers_a_position_whose_representative_never_answers(service: Subsidy) -> None:
    employer = service.pki.employer()
    position = await service.submitted(internship(employer, citizen=None, employees=8), employer)

    referred = await service.until(position, service.issuer.employer(employer.cvr), "position_referred", timeout=15)

    questions = {r["rule"]: r["outcome"] for r in referred["position_decision"]["results"]}
    assert questions["representative_approval"] == "needs_judgement"
    assert "citizen_assessment" not in questions
    decided = (await service.published(position, expect=3))[-1]
    assert decided.verdict.value == "referred"
    assert [r.rule for r in decided.reasons] == ["representative_approval"]


async def test_timers_of_several_replicas_refer_each_due_case_once(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    applications = [await service.submitted(internship(employer), employer) for _ in range(6)]
    await asyncio.sleep(ANSWER_TIMEOUT.total_seconds())

    while any([(await service.view(a, headers))["state"] != "referred" for a in applications]):
        await asyncio.gather(*(timer.fire_due(service.runtime) for _ in range(4)))  # beside the runtime's own

    for application in applications:
        history = [entry["action"] for entry in (await service.view(application, headers))["history"]]
        assert history.count("referred_after_deadline") == 1
        decided = [e for e in await service.published(application, expect=2) if isinstance(e, ApplicationReferred)]
        assert len(decided) == 1


async def test_a_placement_past_its_planned_end_is_completed_by_the_clock(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    application = await service.submitted(internship(employer, start=TODAY - timedelta(days=14), weeks=1), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, headers, "referred", timeout=15)
    url = f"/v1/applications/{application['id']}"
    exception = {"justification": "Registered late; the citizen was there that week."}
    decision = {"approve": True, "remark": "ok", "start_exception": exception}
    approved = await service.client.post(
        url + "/caseworker-decision", json=decision, headers=service.issuer.caseworker()
    )
    assert approved.status_code == 200, approved.text
    document = confirmation_document(UUID(application["id"]), employer.cvr)
    signature = sign(document, employer.signer.key, [employer.signer.cert])
    confirmed = await service.client.post(url + "/confirmation", json={"signature": signature}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text

    ended = await service.until(application, headers, "ended", timeout=15)

    assert ended["history"][-1]["action"] == "completed"
    last = [e for e in await service.published(application, expect=5) if isinstance(e, PlacementEnded)]
    assert [(e.kind, e.last_day.isoformat(), e.reason) for e in last] == [
        (EndKind.PLANNED, application["terms"]["ends_on"], None)
    ]
