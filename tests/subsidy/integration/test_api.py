"""The HTTP API: signed submission, idempotency, who sees what, links, problems, and a placement's whole life."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from contracts import subsidy
from contracts.activation import ConflictKind
from rules import months_later
from services.subsidy.schemas import confirmation_document
from services.subsidy.signing import sign
from services.subsidy.store import PgApplications
from tests.subsidy.factories import TODAY, Employer, Issuer, assessed, internship, plan_checked, wage_subsidy
from tests.subsidy.integration.conftest import Subsidy

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith(code)
    assert body["detail"].endswith(".")
    return body


async def test_a_replayed_idempotency_key_returns_the_same_application(service: Subsidy) -> None:
    employer = service.pki.employer()
    form = internship(employer)
    signature = sign(form, employer.signer.key, [employer.signer.cert])

    first = await service.submit(form, employer, key="order-1", signature=signature)
    replay = await service.submit(form, employer, key="order-1", signature=signature)

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]
    assert replay.headers["location"] == f"/v1/applications/{first.json()['id']}"
    listed = await service.client.get("/v1/applications", headers=service.issuer.employer(employer.cvr))
    assert [a["id"] for a in listed.json()["items"]] == [first.json()["id"]]


async def test_the_list_pages_through_every_application_exactly_once_and_says_where_the_next_page_is(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    submitted = {(await service.submit(internship(employer), employer)).json()["id"] for _ in range(5)}
    headers = service.issuer.employer(employer.cvr)

    seen, links, url, pages = [], [], "/v1/applications?limit=2", 0
    while url:
        answer = await service.client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        seen += [application["id"] for application in answer.json()["items"]]
        links.append(answer.headers.get("link"))
        cursor, pages = answer.json()["next_cursor"], pages + 1
        url = f"/v1/applications?limit=2&cursor={cursor}" if cursor else ""
    everything = await service.client.get("/v1/applications", headers=headers)

    assert pages == 3 and len(seen) == len(set(seen)) == 5 and set(seen) == submitted
    assert seen == [application["id"] for application in everything.json()["items"]], "newest first, as in one page"
    assert links[0] and links[0].endswith('; rel="next"') and "cursor=" in links[0] and links[-1] is None
    _problem(
        await service.client.get("/v1/applications?cursor=bm90LWEtY3Vyc29y", headers=headers), 400, "cursor_invalid"
    )
    _problem(await service.client.get("/v1/applications?limit=501", headers=headers), 422, "request_invalid")


async def test_the_same_key_with_another_body_is_refused(service: Subsidy) -> None:
    employer = service.pki.employer()
    await service.submit(internship(employer), employer, key="order-2")

    response = await service.submit(internship(employer, weeks=3), employer, key="order-2")

    _problem(response, 422, "idempotency_key_reused")


async def test_an_employer_sees_only_its_own_cvrs_applications(service: Subsidy) -> None:
    a, b = service.pki.employer(), service.pki.employer()
    application = await service.submitted(internship(a), a)
    url = f"/v1/applications/{application['id']}"

    other_employer = await service.client.get(url, headers=service.issuer.employer(b.cvr))
    other_municipality = await service.client.get(url, headers=service.issuer.caseworker("101"))
    own_municipality = await service.client.get(url, headers=service.issuer.caseworker("751"))
    b_list = await service.client.get("/v1/applications", headers=service.issuer.employer(b.cvr))

    _problem(other_employer, 404, "application_not_found")
    _problem(other_municipality, 404, "application_not_found")
    assert own_municipality.status_code == 200
    assert application["id"] not in {listed["id"] for listed in b_list.json()["items"]}


async def test_an_employer_may_submit_only_for_its_own_cvr(service: Subsidy) -> None:
    a, b = service.pki.employer(), service.pki.employer()
    form = internship(b)
    response = await service.client.post(
        "/v1/applications",
        json={"application": form, "signature": sign(form, b.signer.key, [b.signer.cert])},
        headers={**service.issuer.employer(a.cvr), "Idempotency-Key": "k"},
    )

    _problem(response, 403, "cvr_not_yours")


async def test_requests_without_a_valid_token_or_role_are_refused(service: Subsidy) -> None:
    employer = service.pki.employer()
    form = internship(employer)
    body = {"application": form, "signature": sign(form, employer.signer.key, [employer.signer.cert])}

    anonymous = await service.client.post("/v1/applications", json=body, headers={"Idempotency-Key": "k"})
    caseworker = await service.client.post(
        "/v1/applications", json=body, headers={**service.issuer.caseworker(), "Idempotency-Key": "k"}
    )
    viewer = await service.client.post(
        "/v1/applications", json=body, headers={**service.issuer.viewer(employer.cvr), "Idempotency-Key": "k"}
    )
    forged_token = Issuer().token("employer", cvr=employer.cvr)  # a key of its own, not the identity provider's
    forged = await service.client.get("/v1/applications", headers={"Authorization": f"Bearer {forged_token}"})

    _problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    _problem(caseworker, 403, "role_not_allowed")
    _problem(viewer, 403, "role_not_allowed")
    _problem(forged, 401, "token_invalid")


async def test_a_caseworker_of_another_municipality_neither_sees_nor_decides_a_referred_case(
    service: Subsidy,
) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.caseworker("751"), "referred")
    url = f"/v1/applications/{application['id']}"

    seen = await service.client.get(url, headers=service.issuer.caseworker("101"))
    listed = await service.client.get("/v1/applications", headers=service.issuer.caseworker("101"))
    decided = await service.client.post(
        url + "/caseworker-decision", json={"approve": True, "remark": "ok"}, headers=service.issuer.caseworker("101")
    )
    withdrawn = await service.client.post(url + "/withdrawal", json={}, headers=service.issuer.caseworker("101"))

    _problem(seen, 404, "application_not_found")
    assert application["id"] not in {found["id"] for found in listed.json()["items"]}
    _problem(decided, 404, "application_not_found")
    _problem(withdrawn, 404, "application_not_found")
    assert (await service.view(application, service.issuer.caseworker("751")))["state"] == "referred"


async def test_an_auditor_reads_every_application_with_its_inputs_but_decides_nothing(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    referred = await service.until(application, service.issuer.auditor(), "referred")
    url = f"/v1/applications/{application['id']}"

    listed = await service.client.get("/v1/applications", headers=service.issuer.auditor())
    decided = await service.client.post(
        url + "/caseworker-decision", json={"approve": True, "remark": "ok"}, headers=service.issuer.auditor()
    )
    withdrawn = await service.client.post(url + "/withdrawal", json={}, headers=service.issuer.auditor())

    assert referred["decision"]["inputs"]["citizen"]["target_group"] == "kontanthjaelp_job_ready"
    assert application["id"] in {found["id"] for found in listed.json()["items"]}
    _problem(decided, 403, "role_not_allowed")
    _problem(withdrawn, 403, "role_not_allowed")


async def test_an_employer_without_the_signing_right_views_but_cannot_sign_a_step(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)
    document = confirmation_document(UUID(application["id"]), employer.cvr)

    viewed = await service.client.get(
        f"/v1/applications/{application['id']}", headers=service.issuer.viewer(employer.cvr)
    )
    confirmed = await service.client.post(
        f"/v1/applications/{application['id']}/confirmation",
        json={"signature": sign(document, employer.signer.key, [employer.signer.cert])},
        headers=service.issuer.viewer(employer.cvr),
    )

    assert viewed.status_code == 200, viewed.text
    _problem(confirmed, 403, "role_not_allowed")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(form: dict[str, Any]) -> str:
    return _b64(b'{"alg":"none"}') + "." + _b64(json.dumps(form).encode()) + "."


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("revoked", "signature_revoked"),
        ("other_cvr", "signature_cvr_mismatch"),
        ("tampered", "signature_payload_mismatch"),
        ("unsigned", "signature_alg_not_allowed"),
        ("garbage", "signature_malformed"),
    ],
)
async def test_refuses_an_application_whose_signature_proves_nothing(service: Subsidy, case: str, code: str) -> None:
    employer = service.pki.employer()
    if case == "revoked":
        employer = Employer("11111111", service.pki.revoked)
    form = internship(employer)
    signed_by, document = employer, form
    if case == "other_cvr":
        signed_by = service.pki.employer()
    if case == "tampered":
        document = {**form, "tasks": "Something else"}
    signature = {
        "unsigned": _unsigned(form),
        "garbage": "not-a-jws",
    }.get(case) or sign(document, signed_by.signer.key, [signed_by.signer.cert])

    response = await service.submit(form, employer, signature=signature)

    _problem(response, 422, code)


async def test_problems_never_echo_the_cpr_number(service: Subsidy) -> None:
    employer = service.pki.employer()
    form = internship(employer)
    form["period"] = {"start": "2026-13-01", "end": "2026-12-31"}

    response = await service.submit(form, employer)

    body = _problem(response, 422, "request_invalid")
    assert form["citizen"]["cpr"] not in response.text
    assert any("period" in error["location"] for error in body["errors"])


async def test_keeps_the_signature_as_evidence_and_never_shows_or_logs_the_cpr(
    service: Subsidy, caplog: pytest.LogCaptureFixture
) -> None:
    employer = service.pki.employer()
    form = internship(employer, employees=2)
    signature = sign(form, employer.signer.key, [employer.signer.cert])
    application = (await service.submit(form, employer, signature=signature)).json()
    await service.answer(assessed(application), plan_checked(application))
    requested = (await service.published(application, expect=2))[1]
    await service.client.post(
        "/v1/representative-approval", json={"token": service.link_token(requested), "approve": True}
    )
    viewed = await service.until(application, service.issuer.caseworker(), "approved")

    async with service.runtime.pool.acquire() as conn:
        assert (
            await PgApplications(conn, service.runtime.context.keys).signature(UUID(application["id"]), "application")
            == signature
        )
    cpr = form["citizen"]["cpr"]
    assert cpr not in json.dumps(viewed)
    assert cpr not in caplog.text


async def test_a_disallowed_step_is_a_conflict_naming_the_current_state(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)
    document = confirmation_document(UUID(application["id"]), employer.cvr)

    response = await service.client.post(
        f"/v1/applications/{application['id']}/confirmation",
        json={"signature": sign(document, employer.signer.key, [employer.signer.cert])},
        headers=service.issuer.employer(employer.cvr),
    )

    body = _problem(response, 409, "transition_not_allowed")
    assert body["current_state"] == "assessing"
    assert "assessing" in body["detail"]


async def test_two_caseworkers_deciding_from_the_same_page_cannot_overwrite_each_other(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(wage_subsidy(employer, public=True), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.caseworker("751"), "referred")
    url = f"/v1/applications/{application['id']}"
    first_read, second_read = [await service.client.get(url, headers=service.issuer.caseworker()) for _ in "ab"]
    shown = first_read.headers["etag"]

    rejected = await service.client.post(
        url + "/caseworker-decision",
        json={"approve": False, "remark": "the plan does not hold"},
        headers={**service.issuer.caseworker(), "If-Match": shown},
    )
    approved = await service.client.post(
        url + "/caseworker-decision",
        json={"approve": True, "remark": "ok"},
        headers={**service.issuer.caseworker(), "If-Match": second_read.headers["etag"]},
    )
    elsewhere = await service.client.post(
        url + "/withdrawal", json={}, headers={**service.issuer.caseworker("101"), "If-Match": shown}
    )

    assert shown == second_read.headers["etag"] == f'"{first_read.json()["version"]}"'
    assert rejected.status_code == 200, rejected.text
    assert rejected.headers["etag"] == f'"{rejected.json()["version"]}"' != shown
    stale = _problem(approved, 412, "precondition_failed")
    assert stale["current_version"] == rejected.json()["version"]
    _problem(elsewhere, 404, "application_not_found")  # no version told to who may not see the application
    after = await service.client.get(url, headers=service.issuer.caseworker())
    assert (after.json()["state"], after.headers["etag"]) == ("rejected", rejected.headers["etag"])


async def test_a_step_without_if_match_is_made_to_the_current_version(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)
    url = f"/v1/applications/{application['id']}"
    before = (await service.client.get(url, headers=service.issuer.employer(employer.cvr))).json()["version"]

    withdrawn = await service.client.post(url + "/withdrawal", json={}, headers=service.issuer.employer(employer.cvr))

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn" and withdrawn.json()["version"] > before


async def test_a_caseworker_decides_only_referred_cases(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)

    response = await service.client.post(
        f"/v1/applications/{application['id']}/caseworker-decision",
        json={"approve": True, "remark": "ok"},
        headers=service.issuer.caseworker(),
    )

    assert _problem(response, 409, "transition_not_allowed")["current_state"] == "assessing"


async def test_a_representative_link_shows_the_employers_information_and_works_once(service: Subsidy) -> None:
    employer = service.pki.employer()
    form = internship(employer, employees=4)
    application = await service.submitted(form, employer)
    token = service.link_token((await service.published(application, expect=2))[1])

    shown = await service.client.get("/v1/representative-approval", params={"token": token})
    first = await service.client.post("/v1/representative-approval", json={"token": token, "approve": True})
    again = await service.client.post(
        "/v1/representative-approval", json={"token": token, "approve": False, "reason": "x"}
    )

    assert shown.status_code == 200
    assert shown.json()["employer_name"] == form["employer"]["name"]
    assert form["citizen"]["cpr"] not in shown.text
    assert first.json()["state"] == "assessing"
    _problem(again, 409, "link_used")


async def test_refuses_a_tampered_or_expired_link(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer, employees=4), employer)
    token = service.link_token((await service.published(application, expect=2))[1])
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    past = datetime.now(UTC) - timedelta(days=20)
    expired_token = service.runtime.context.links.token(
        UUID(claims["sub"]), UUID(claims["jti"]), past + timedelta(days=14), past
    )
    header, payload, mac = token.split(".")
    tampered = ".".join([header, payload, mac[:-3] + ("AAA" if not mac.endswith("AAA") else "BBB")])

    expired = await service.client.post("/v1/representative-approval", json={"token": expired_token, "approve": True})
    forged = await service.client.post("/v1/representative-approval", json={"token": tampered, "approve": True})

    _problem(expired, 410, "link_expired")
    _problem(forged, 403, "link_invalid")
    assert (await service.view(application, service.issuer.employer(employer.cvr)))[
        "state"
    ] == "awaiting_representative"


async def test_a_wage_subsidy_placement_from_approval_to_its_early_end(service: Subsidy) -> None:
    employer = service.pki.employer()
    headers = service.issuer.employer(employer.cvr)
    start = (TODAY.replace(day=1) - timedelta(days=40)).replace(day=1)
    end = months_later(start, 5) - timedelta(days=1)
    application = await service.submitted(wage_subsidy(employer, start=start, end=end), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, headers, "referred")  # it started before the decision
    url = f"/v1/applications/{application['id']}"
    exception = {"justification": "Hired under the jobcentre's written promise before the application."}
    approval = {"approve": True, "remark": "ok", "start_exception": exception}
    approved = await service.client.post(
        url + "/caseworker-decision", json=approval, headers=service.issuer.caseworker()
    )
    assert approved.json()["state"] == "approved", approved.text
    document = confirmation_document(UUID(application["id"]), employer.cvr)

    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        return await service.client.post(url + path, json=body, headers=headers)

    confirmed = await post("/confirmation", {"signature": sign(document, employer.signer.key, [employer.signer.cert])})
    too_long = await post("/extension", {"new_end": months_later(start, 7).isoformat()})
    extended = await post("/extension", {"new_end": (months_later(start, 6) - timedelta(days=1)).isoformat()})
    step = {"from_date": (start + timedelta(days=21)).isoformat(), "hours_per_week": "30.00"}
    hours = await post("/hours", {"weekly_hours": [step]})
    report = await post("/wage-reports", {"month": f"{start:%Y-%m}", "paid_hours": "160.00", "wage_costs_ore": 3120000})
    not_over = await post("/wage-reports", {"month": f"{TODAY:%Y-%m}", "paid_hours": "1.00", "wage_costs_ore": 1})
    ended = await post(
        "/end",
        {
            "last_day": (TODAY - timedelta(days=1)).isoformat(),
            "reason": "ordinary_job",
            "subsidy_last_12_months_ore": 4000000,
            "wage_costs_last_12_months_ore": 9000000,
        },
    )

    assert confirmed.json()["state"] == "confirmed", confirmed.text
    _problem(too_long, 422, "extension_breaks_rule")
    assert extended.json()["terms"]["ends_on"] == (months_later(start, 6) - timedelta(days=1)).isoformat()
    assert len(hours.json()["terms"]["weekly_hours"]) == 2
    assert report.status_code == 201, report.text
    _problem(not_over, 422, "month_not_over")
    assert ended.json()["state"] == "ended", ended.text
    assert ended.json()["wage_reports"][0]["period"]["start"] == start.isoformat()
    events = await service.published(application, expect=8)
    assert [type(e).__name__ for e in events] == [
        "ApplicationSubmittedV2",
        "ApplicationReferred",
        "ApplicationApproved",
        "PlacementConfirmed",
        "PlacementExtended",
        "PlacementHoursChanged",
        "WageReportSubmitted",
        "PlacementEnded",
    ]
    assert events[3].subsidy_hourly_rate_ore == 8616  # rules/subsidy_rates/2026.toml, private
    assert events[-1].kind is subsidy.EndKind.EARLY


async def test_an_employer_withdraws_before_confirmation_and_late_answers_change_nothing(service: Subsidy) -> None:
    employer = service.pki.employer()
    application = await service.submitted(internship(employer), employer)

    response = await service.client.post(
        f"/v1/applications/{application['id']}/withdrawal",
        json={"reason": "Stillingen er nedlagt."},
        headers=service.issuer.employer(employer.cvr),
    )
    await service.answer(assessed(application), plan_checked(application, ConflictKind.OVERLAPPING_PERIOD))

    assert response.json()["state"] == "withdrawn"
    events = await service.published(application, expect=2)
    assert [type(e).__name__ for e in events] == ["ApplicationSubmittedV2", "ApplicationWithdrawn"]
    assert events[-1].withdrawn_by is subsidy.Withdrawer.EMPLOYER


async def test_documents_the_api_with_problem_responses(service: Subsidy) -> None:
    spec = (await service.client.get("/openapi.json")).json()

    assert {"/v1/applications", "/v1/applications/{application_id}", "/v1/representative-approval"} <= set(
        spec["paths"]
    )
    responses = spec["paths"]["/v1/applications"]["post"]["responses"]
    assert PROBLEM in responses["409"]["content"]


async def test_a_signer_of_another_cvr_takes_no_step_on_a_placement_and_learns_nothing_of_it(service: Subsidy) -> None:
    employer, other = service.pki.employer(), service.pki.employer()
    start = (TODAY.replace(day=1) - timedelta(days=40)).replace(day=1)
    end = months_later(start, 5) - timedelta(days=1)
    application = await service.submitted(wage_subsidy(employer, start=start, end=end), employer)
    await service.answer(assessed(application), plan_checked(application))
    await service.until(application, service.issuer.employer(employer.cvr), "referred")  # began before the decision
    url = f"/v1/applications/{application['id']}"
    document = confirmation_document(UUID(application["id"]), other.cvr)
    steps = {
        "/confirmation": {"signature": sign(document, other.signer.key, [other.signer.cert])},
        "/extension": {"new_end": (months_later(start, 6) - timedelta(days=1)).isoformat()},
        "/hours": {
            "weekly_hours": [{"from_date": (start + timedelta(days=21)).isoformat(), "hours_per_week": "30.00"}]
        },
        "/wage-reports": {"month": f"{start:%Y-%m}", "paid_hours": "160.00", "wage_costs_ore": 3120000},
        "/end": {
            "last_day": (TODAY - timedelta(days=1)).isoformat(),
            "reason": "ordinary_job",
            "subsidy_last_12_months_ore": 4000000,
            "wage_costs_last_12_months_ore": 9000000,
        },
        "/withdrawal": {"reason": "not ours"},
    }

    answers = {
        path: await service.client.post(url + path, json=body, headers=service.issuer.employer(other.cvr))
        for path, body in steps.items()
    }

    for answer in answers.values():
        _problem(answer, 404, "application_not_found")
    assert (await service.view(application, service.issuer.employer(employer.cvr)))["state"] == "referred"
