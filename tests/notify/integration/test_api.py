"""The subscriptions API: what it accepts, what it refuses (as problem+json), and that secrets are shown once."""

from collections.abc import Awaitable
from uuid import uuid4

import httpx

from contracts.subsidy import ApplicationApproved, ApplicationSubmitted, RepresentativeApprovalRequested
from jobbro.principal import Authenticator
from tests.identity import Callers
from tests.notify.integration.conftest import SettingsFactory, running_notify

SUBSCRIPTIONS = "/v1/webhooks/subscriptions"


async def test_a_subscription_is_created_with_a_secret_shown_once_read_back_and_cancelled(
    settings_for: SettingsFactory, authenticator: Authenticator, integrator: dict[str, str]
) -> None:
    async with running_notify(settings_for(webhook_require_https=True), authenticator, integrator) as api:
        twice = [ApplicationApproved.type, ApplicationApproved.type]
        created = await api.post(SUBSCRIPTIONS, json={"url": "https://erp.example/hook", "event_types": twice})
        assert created.status_code == 201, created.text
        assert created.json()["secret"].startswith("whsec_") and len(created.json()["secret"]) >= 32
        read = await api.get(f"{SUBSCRIPTIONS}/{created.json()['id']}")
        assert read.json() == {
            "id": created.json()["id"],
            "url": "https://erp.example/hook",
            "event_types": [ApplicationApproved.type],
            "status": "active",
        }
        assert (await api.delete(f"{SUBSCRIPTIONS}/{created.json()['id']}")).status_code == 204
        assert (await api.get(f"{SUBSCRIPTIONS}/{created.json()['id']}")).json()["status"] == "cancelled"
        again = await api.post(f"{SUBSCRIPTIONS}/{created.json()['id']}/reactivate")
        assert again.status_code == 422
        assert again.json()["detail"] == "a cancelled subscription cannot be reactivated"


async def test_refusals_are_problem_documents_with_the_reason(
    settings_for: SettingsFactory, authenticator: Authenticator, integrator: dict[str, str]
) -> None:
    async with running_notify(settings_for(webhook_require_https=True), authenticator, integrator) as api:

        def subscribe(url: str, event_type: str) -> Awaitable[httpx.Response]:
            return api.post(SUBSCRIPTIONS, json={"url": url, "event_types": [event_type]})

        plain_http = await subscribe("http://erp.example/hook", ApplicationApproved.type)
        cpr = await subscribe("https://erp.example/hook", ApplicationSubmitted.type)
        link = await subscribe("https://erp.example/hook", RepresentativeApprovalRequested.type)
        missing = await api.get(f"{SUBSCRIPTIONS}/{uuid4()}")
        home_made = await api.post(
            SUBSCRIPTIONS,
            json={"url": "https://erp.example/hook", "event_types": [ApplicationApproved.type], "secret": "s3cret" * 4},
        )

    assert [r.status_code for r in (plain_http, cpr, link, missing, home_made)] == [422, 422, 422, 404, 422]
    assert "starts with whsec_" in home_made.text and "s3cret" not in home_made.text
    assert {r.headers["content-type"] for r in (plain_http, cpr, link, missing)} == {"application/problem+json"}
    assert plain_http.json()["detail"] == "the URL must use https"
    assert cpr.json()["detail"] == f"event types not offered to webhooks: {ApplicationSubmitted.type}"
    assert RepresentativeApprovalRequested.type in link.json()["detail"]


async def test_a_refused_event_type_shaped_like_a_cpr_number_is_not_repeated(
    settings_for: SettingsFactory, authenticator: Authenticator, callers: Callers
) -> None:
    cpr = "0101901234"
    async with running_notify(settings_for(), authenticator, callers.integrator(cpr)) as api:
        refused = await api.post(SUBSCRIPTIONS, json={"url": "https://erp.example/hook", "event_types": [cpr]})

    assert refused.status_code == 422
    assert cpr not in refused.text and refused.json()["detail"] == (
        "event types not offered to webhooks: 1 not in the catalog"
    )


async def test_a_subscriptions_creation_read_and_cancelling_are_recorded_for_the_auditor(
    settings_for: SettingsFactory, authenticator: Authenticator, integrator: dict[str, str], callers: Callers
) -> None:
    async with running_notify(settings_for(webhook_require_https=True), authenticator, integrator) as api:
        body = {"url": "https://erp.example/hook", "event_types": [ApplicationApproved.type]}
        created = (await api.post(SUBSCRIPTIONS, json=body)).json()
        await api.get(f"{SUBSCRIPTIONS}/{created['id']}")
        await api.delete(f"{SUBSCRIPTIONS}/{created['id']}")
        refused = await api.get("/v1/audit/access")
        accesses = (await api.get("/v1/audit/access", headers=callers.auditor())).json()["accesses"]

    assert refused.status_code == 403
    assert [(a["action"], a["route"], a["object_ref"], a["roles"]) for a in reversed(accesses)] == [
        ("change", "POST /v1/webhooks/subscriptions", created["id"], ["integrator"]),
        ("read", "GET /v1/webhooks/subscriptions/{subscription_id}", created["id"], ["integrator"]),
        ("change", "DELETE /v1/webhooks/subscriptions/{subscription_id}", created["id"], ["integrator"]),
        ("read", "GET /v1/audit/access", None, ["integrator"]),  # refused by the role check, and recorded
    ]
    assert accesses[0]["outcome"] == "refused"


async def test_an_integrator_pages_through_its_own_subscriptions_each_once_and_sees_no_others(
    settings_for: SettingsFactory, authenticator: Authenticator, callers: Callers
) -> None:
    body = {"url": "https://erp.example/hook", "event_types": [ApplicationApproved.type]}
    mine, theirs = callers.integrator(ApplicationApproved.type), callers.integrator(ApplicationApproved.type)
    async with running_notify(settings_for(webhook_require_https=True), authenticator, mine) as api:
        made = {(await api.post(SUBSCRIPTIONS, json=body)).json()["id"] for _ in range(5)}
        others = (await api.post(SUBSCRIPTIONS, json=body, headers=theirs)).json()["id"]
        seen, url, pages = [], f"{SUBSCRIPTIONS}?limit=2", 0
        while url:
            answer = await api.get(url)
            seen, pages = seen + [s["id"] for s in answer.json()["items"]], pages + 1
            url = answer.headers["link"].split(">")[0].removeprefix("<") if answer.json()["next_cursor"] else ""
        of_the_other = (await api.get(SUBSCRIPTIONS, headers=theirs)).json()

    assert pages == 3 and sorted(seen) == seen and len(seen) == len(set(seen)) and set(seen) == made
    assert [s["id"] for s in of_the_other["items"]] == [others] and of_the_other["next_cursor"] is None
