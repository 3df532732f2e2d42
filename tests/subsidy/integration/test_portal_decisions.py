"""The portal's subsidy client against the running service: two caseworkers deciding the same case from the pages
they were shown cannot overwrite each other unseen (the portal sends the version shown as `If-Match`)."""

import httpx
import pytest

from services.portal.services import ApiRefused, SubsidyApi
from services.subsidy.app import create_app
from tests.subsidy.factories import assessed, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy


async def test_the_second_of_two_caseworkers_deciding_from_the_same_page_is_told_the_case_changed(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.caseworker("751"), "referred")
    transport = httpx.ASGITransport(app=create_app(service.settings, service.runtime))
    portal = SubsidyApi("http://subsidy", 10, transport=transport)
    anne, bo = (service.issuer.caseworker("751")["Authorization"].removeprefix("Bearer ") for _ in "ab")
    case = application["id"]
    shown_to_anne, shown_to_bo = await portal.application(anne, case), await portal.application(bo, case)

    decided = await portal.decide(
        anne, case, approve=False, remark="The plan does not hold.", version=str(shown_to_anne["version"])
    )
    with pytest.raises(ApiRefused) as refused:
        await portal.decide(bo, case, approve=True, remark="Fine.", version=str(shown_to_bo["version"]))
    now = await portal.application(bo, case)
    await portal.close()

    assert (refused.value.status, refused.value.code) == (412, "precondition_failed")
    assert (decided["state"], now["state"], now["version"]) == ("rejected", "rejected", decided["version"])
