"""Who may subscribe to webhooks and to what: integrators their own subscriptions within their grant, operators
read and reactivate any, nobody anonymously; sensitive fields only for a subscription made with that grant."""

import asyncio
import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from contracts.subsidy import ApplicationApproved, PlacementExtended
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish
from tests.identity import Callers
from tests.notify.integration.conftest import (
    SettingsFactory,
    WebhookReceiver,
    about,
    running_notify,
    serving,
    submitted,
)

SUBSCRIPTIONS = "/v1/webhooks/subscriptions"


@pytest.fixture
def notify(settings_for: SettingsFactory, authenticator: Authenticator) -> Callable[[], Any]:
    """`notify()`: the whole service running, as `running_notify` gives it, checking tokens from `token_for`."""
    return lambda: running_notify(settings_for(), authenticator)


async def _until_received(*receivers: WebhookReceiver, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not all(receiver.received for receiver in receivers):
        assert asyncio.get_running_loop().time() < deadline, "a webhook was not delivered"
        await asyncio.sleep(0.05)


HOOK = "https://erp.example/hook"


async def test_nobody_subscribes_anonymously_nor_to_event_types_outside_their_grant(
    settings_for: SettingsFactory, authenticator: Authenticator, callers: Callers
) -> None:
    asked = {"url": HOOK, "event_types": [ApplicationApproved.type, PlacementExtended.type]}
    async with running_notify(settings_for(), authenticator) as api:
        anonymous = await api.post(SUBSCRIPTIONS, json=asked)
        narrow = await api.post(SUBSCRIPTIONS, json=asked, headers=callers.integrator(PlacementExtended.type))
        operator = await api.post(SUBSCRIPTIONS, json=asked, headers=callers.operator())

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")
    assert (narrow.status_code, narrow.json()["code"]) == (403, "event_type_not_granted")
    assert ApplicationApproved.type not in narrow.text and PlacementExtended.type not in narrow.text
    assert (operator.status_code, operator.json()["code"]) == (403, "role_not_allowed")


async def test_an_integrator_cannot_see_change_or_cancel_anothers_subscription_but_an_operator_may_reactivate_it(
    settings_for: SettingsFactory, authenticator: Authenticator, callers: Callers
) -> None:
    owner, other = callers.integrator(PlacementExtended.type), callers.integrator(PlacementExtended.type)
    async with running_notify(settings_for(), authenticator) as api:
        created = await api.post(
            SUBSCRIPTIONS, json={"url": HOOK, "event_types": [PlacementExtended.type]}, headers=owner
        )
        url = f"{SUBSCRIPTIONS}/{created.json()['id']}"
        foreign = [
            await api.get(url, headers=other),
            await api.get(url + "/deliveries", headers=other),
            await api.post(url + "/reactivate", headers=other),
            await api.delete(url, headers=other),
        ]
        unknown = await api.get(f"{SUBSCRIPTIONS}/{uuid4()}", headers=other)
        by_operator = [
            await api.get(url, headers=callers.operator()),
            await api.get(url + "/deliveries", headers=callers.operator()),
            await api.post(url + "/reactivate", headers=callers.operator()),
        ]
        operator_cancels = await api.delete(url, headers=callers.operator())
        own = await api.get(url, headers=owner)

    assert created.status_code == 201, created.text
    assert [(r.status_code, r.json()["code"]) for r in foreign] == [(404, "unknown_subscription")] * 4
    assert {r.json()["detail"] for r in foreign} == {f"no subscription {created.json()['id']}"}  # as if none
    assert unknown.json()["code"] == "unknown_subscription"
    assert [r.status_code for r in by_operator] == [200, 200, 200]
    assert operator_cancels.status_code == 403
    assert (own.status_code, own.json()["status"]) == (200, "active")


async def test_sensitive_fields_reach_only_a_subscription_made_with_that_grant(
    kafka: KafkaAccess,
    topic_prefix: str,
    notify: Callable[[], Any],
    callers: Callers,
    receiver_port: int,
    other_receiver_port: int,
) -> None:
    plain, granted = (
        WebhookReceiver(failures=0),
        WebhookReceiver(failures=0),
    )
    application = submitted()
    approved = about(ApplicationApproved, application)
    assert approved.rule_results, "the example decision carries rule results"
    async with (
        serving(plain, receiver_port) as plain_url,
        serving(granted, other_receiver_port) as granted_url,
        notify() as api,
    ):
        for receiver, url, sensitive in ((plain, plain_url, False), (granted, granted_url, True)):
            created = await api.post(
                SUBSCRIPTIONS,
                json={"url": url, "event_types": [ApplicationApproved.type], "secret": receiver.secret},
                headers=callers.integrator(ApplicationApproved.type, sensitive=sensitive),
            )
            assert created.status_code == 201, created.text
        await publish(kafka, topic_prefix, application, approved)
        await _until_received(plain, granted)

    [without] = [json.loads(r.body)["data"] for r in plain.received]
    [with_them] = [json.loads(r.body)["data"] for r in granted.received]
    assert "rule_results" not in without and "citizen_ref" in without
    assert with_them["rule_results"] and with_them["application_id"] == without["application_id"] == str(
        application.application_id
    )


async def test_an_anonymous_subscriber_receives_no_employers_decision(
    kafka: KafkaAccess,
    topic_prefix: str,
    notify: Callable[[], Any],
    callers: Callers,
    receiver_port: int,
    other_receiver_port: int,
) -> None:
    anonymous, integrator = (WebhookReceiver(failures=0) for _ in range(2))
    application = submitted()
    async with (
        serving(anonymous, receiver_port) as anonymous_url,
        serving(integrator, other_receiver_port) as integrator_url,
        notify() as api,
    ):
        refused = await api.post(
            SUBSCRIPTIONS,
            json={"url": anonymous_url, "event_types": [ApplicationApproved.type], "secret": anonymous.secret},
        )
        granted = await api.post(
            SUBSCRIPTIONS,
            json={"url": integrator_url, "event_types": [ApplicationApproved.type], "secret": integrator.secret},
            headers=callers.integrator(ApplicationApproved.type),
        )
        await publish(kafka, topic_prefix, application, about(ApplicationApproved, application))
        await _until_received(integrator)  # the decision went out: to the subscription that was allowed

    assert (refused.status_code, granted.status_code) == (401, 201)
    assert anonymous.received == []
