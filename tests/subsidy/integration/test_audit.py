"""The access audit of subsidy: a caseworker's reads and decision of a case are recorded with who, in which
municipality, why and how it ended; another municipality's look is recorded as not found; the representative's link
is recorded as its own actor; the auditor reads it all."""

from contracts.audit import TOPICS, SubsidyAccessRecorded
from contracts.subsidy import RepresentativeApprovalRequested
from jobbro.testing import read_events
from tests.subsidy.factories import assessed, internship, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy


async def test_a_caseworkers_reads_and_decision_are_recorded_and_queried_by_citizen(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    referred = await service.until(application, service.issuer.caseworker("751"), "referred")
    url, ref = f"/v1/applications/{application['id']}", referred["citizen_ref"]

    other = await service.client.get(url, headers=service.issuer.caseworker("101"))
    decided = await service.client.post(
        url + "/caseworker-decision", json={"approve": True, "remark": "ok"}, headers=service.issuer.caseworker("751")
    )
    about = await service.client.get("/v1/audit/access", params={"citizen_ref": ref}, headers=service.issuer.auditor())
    everything = await service.client.get("/v1/audit/access", headers=service.issuer.auditor())

    assert (other.status_code, decided.status_code, about.status_code) == (404, 200, 200)
    accesses = about.json()["accesses"]
    assert {(a["action"], a["route"], a["municipality"], a["purpose"]) for a in accesses} >= {
        ("read", "GET /v1/applications/{application_id}", "751", "case_handling"),
        ("change", "POST /v1/applications/{application_id}/caseworker-decision", "751", "case_handling"),
        ("change", "POST /v1/applications", None, "employer_application"),
    }
    assert all(a["object_ref"] == application["id"] and a["outcome"] == "granted" for a in accesses)
    refused = [
        a for a in everything.json()["accesses"] if a["object_ref"] == application["id"] and a["municipality"] == "101"
    ]
    assert [(a["outcome"], a["citizen_refs"]) for a in refused] == [("not_found", [])]
    published = await read_events(
        service.settings.kafka, service.settings.topic_prefix + TOPICS["subsidy"], expect=len(accesses)
    )
    decision = next(a for a in accesses if a["action"] == "change" and a["municipality"] == "751")
    assert any(
        isinstance(event, SubsidyAccessRecorded) and str(event.access_id) == decision["access_id"]
        for _, event in published
    )


async def test_the_auditor_pages_through_a_citizens_accesses_each_once_and_in_order(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    ref = (await service.until(application, service.issuer.caseworker("751"), "referred"))["citizen_ref"]
    for _ in range(3):
        await service.client.get(f"/v1/applications/{application['id']}", headers=service.issuer.caseworker("751"))
    whole = await service.client.get("/v1/audit/access", params={"citizen_ref": ref}, headers=service.issuer.auditor())

    paged, params, pages = [], {"citizen_ref": ref, "limit": "2"}, 0
    while params:
        answer = await service.client.get("/v1/audit/access", params=params, headers=service.issuer.auditor())
        paged, pages = paged + answer.json()["accesses"], pages + 1
        cursor = answer.json()["next_cursor"]
        assert ("link" in answer.headers) == bool(cursor)
        params = {"citizen_ref": ref, "limit": "2", "cursor": cursor} if cursor else {}

    assert whole.json()["next_cursor"] is None and len(whole.json()["accesses"]) >= 5
    assert pages >= 3 and len({a["access_id"] for a in paged}) == len(paged)
    assert paged[0]["route"] == "GET /v1/audit/access", "the whole list's own reading, recorded after it was read"
    assert paged[1:] == whole.json()["accesses"], "the rest: exactly what one page showed before, in its order"


async def test_reading_a_decisions_derivation_is_recorded_with_its_citizen(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    referred = await service.until(application, service.issuer.caseworker("751"), "referred")
    url, ref = f"/v1/applications/{application['id']}", referred["citizen_ref"]
    await service.client.post(
        url + "/caseworker-decision", json={"approve": True, "remark": "ok"}, headers=service.issuer.caseworker("751")
    )

    read = await service.client.get(url + "/derivation", headers=service.issuer.caseworker("751"))
    hidden = await service.client.get(url + "/derivation", headers=service.issuer.caseworker("101"))
    about = await service.client.get("/v1/audit/access", headers=service.issuer.auditor())

    assert (read.status_code, hidden.status_code) == (200, 404)
    derivations = [
        a for a in about.json()["accesses"] if a["route"] == "GET /v1/applications/{application_id}/derivation"
    ]
    assert sorted((a["municipality"], a["outcome"], a["object_kind"], a["citizen_refs"]) for a in derivations) == [
        ("101", "not_found", "derivation", []),
        ("751", "granted", "derivation", [ref]),
    ]


async def test_the_representatives_link_reading_and_answering_is_recorded_with_the_link_as_actor(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=6), employer)
    [request] = [
        e for e in await service.published(application, expect=2) if isinstance(e, RepresentativeApprovalRequested)
    ]
    token, route = service.link_token(request), "/v1/representative-approval"
    header, claims, mac = token.split(".")

    shown = await service.client.get(route, headers={"X-Approval-Token": token})
    forged = await service.client.get(route, headers={"X-Approval-Token": f"{header}.{claims}.{mac[::-1]}"})
    answered = await service.client.post(route, json={"token": token, "approve": True})
    again = await service.client.post(route, json={"token": token, "approve": True})
    about = await service.client.get("/v1/audit/access", headers=service.issuer.auditor())

    assert [r.status_code for r in (shown, forged, answered, again)] == [200, 403, 200, 409]
    by_link = [a for a in about.json()["accesses"] if a["route"].endswith(route)]
    assert sorted((a["route"], a["action"], a["outcome"], a["citizen_refs"]) for a in by_link) == [
        ("GET " + route, "read", "granted", [application["citizen_ref"]]),
        ("POST " + route, "change", "granted", [application["citizen_ref"]]),
        ("POST " + route, "change", "refused", []),  # the used link; the forged one names nobody
    ]
    assert {(a["actor"], *a["roles"], a["purpose"], a["object_ref"]) for a in by_link} == {
        (f"representative-link:{request.request_id}", "representative", "representative_approval", application["id"])
    }
