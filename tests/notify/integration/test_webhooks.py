"""Webhooks to a real HTTP receiver on loopback that verifies every signature with the `standardwebhooks` library:
retries over an outage, dead letters, resumption by a probe or by an operator."""

import asyncio
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from contracts.notify import WEBHOOK_DEAD_LETTERS, NotificationFailed, NotificationSent, WebhookDeadLettered
from contracts.subsidy import PlacementEnded, PlacementExtended
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish, read_events
from tests.identity import Callers
from tests.notify.integration.conftest import (
    SettingsFactory,
    WebhookReceiver,
    about,
    notifications,
    running_notify,
    serving,
    submitted,
)


async def test_a_receiver_failing_three_times_gets_the_event_once_more_after_backoff_and_no_more(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(failures=3)
    application = submitted()
    extended = about(PlacementExtended, application)
    async with (
        serving(receiver, receiver_port) as url,
        running_notify(settings_for(delivery_max_attempts=5), authenticator, integrator) as api,
    ):
        created = await api.post(
            "/v1/webhooks/subscriptions",
            json={"url": url, "event_types": [PlacementExtended.type], "secret": receiver.secret},
        )
        assert created.status_code == 201, created.text
        _, meta = await publish(kafka, topic_prefix, application, extended)
        told = await notifications(kafka, topic_prefix, expect=5)  # 3 failed + 1 sent, + the citizen's letter

    delivery_id = f"event:{meta.id}:{created.json()['id']}:webhook"
    assert [r.status for r in receiver.received] == [503, 503, 503, 204]
    assert all(r.verified for r in receiver.received)
    assert {r.delivery_id for r in receiver.received} == {delivery_id}
    assert len({r.body for r in receiver.received}) == 1
    body = json.loads(receiver.received[0].body)
    assert (body["id"], body["type"], body["data"]["new_end"]) == (str(meta.id), extended.type, "2026-08-28")
    webhook = [e for e in told if e.channel == "webhook"]
    assert sorted((type(e).__name__, getattr(e, "attempts", 0), getattr(e, "retryable", None)) for e in webhook) == [
        ("NotificationFailed", 1, True),
        ("NotificationFailed", 2, True),
        ("NotificationFailed", 3, True),
        ("NotificationSent", 0, None),
    ]
    assert {e.dedup_key for e in webhook} == {delivery_id}


async def test_a_receiver_that_always_fails_ends_in_the_dead_letter_topic_and_an_operator_resumes_it_at_once(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(failures=None)
    application = submitted()
    extended, ended = about(PlacementExtended, application), about(PlacementEnded, application)
    settings = settings_for(delivery_max_attempts=3, webhook_probe_seconds=3600)
    async with serving(receiver, receiver_port) as url, running_notify(settings, authenticator, integrator) as api:
        types = [PlacementExtended.type, PlacementEnded.type]
        created = await api.post(
            "/v1/webhooks/subscriptions", json={"url": url, "event_types": types, "secret": receiver.secret}
        )
        subscription_id = UUID(created.json()["id"])
        _, first, second = await publish(kafka, topic_prefix, application, extended, ended)
        first_id = f"event:{first.id}:{subscription_id}:webhook"
        second_id = f"event:{second.id}:{subscription_id}:webhook"

        [(_, dead)] = await read_events(kafka, topic_prefix + WEBHOOK_DEAD_LETTERS, expect=1)
        assert isinstance(dead, WebhookDeadLettered)
        assert (dead.subscription_id, dead.delivery_id, dead.attempts) == (subscription_id, first_id, 3)
        assert dead.reason == "HTTP 503"
        assert json.loads(dead.body)["id"] == str(first.id)
        assert (await api.get(f"/v1/webhooks/subscriptions/{subscription_id}")).json()["status"] == "failing"
        assert [r.delivery_id for r in receiver.received] == [first_id] * 3  # the later event waits behind it

        receiver.failures = 0  # the integrator mends their endpoint
        reactivated = await api.post(f"/v1/webhooks/subscriptions/{subscription_id}/reactivate")
        assert reactivated.json()["status"] == "active"
        # 3 failed + 2 sent by webhook, and the citizen's two letters
        told = await notifications(kafka, topic_prefix, expect=7)

    assert [(r.delivery_id, r.status) for r in receiver.received[3:]] == [(first_id, 204), (second_id, 204)]
    assert all(r.verified for r in receiver.received)
    final = [e for e in told if e.channel == "webhook" and not (isinstance(e, NotificationFailed) and e.retryable)]
    assert sorted((type(e).__name__, e.dedup_key) for e in final) == sorted(
        [("NotificationFailed", first_id), ("NotificationSent", first_id), ("NotificationSent", second_id)]
    )
    assert sum(isinstance(e, NotificationSent) for e in told) == 4


async def test_a_receiver_down_for_a_while_gets_the_event_when_it_is_back_without_anyone_reactivating(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(failures=0)
    application = submitted()
    extended = about(PlacementExtended, application)
    settings = settings_for(delivery_give_up_seconds=600, webhook_probe_seconds=3600)
    async with running_notify(settings, authenticator, integrator) as api:
        url = f"http://127.0.0.1:{receiver_port}/jobbro-events"  # nothing listens there yet: the outage
        body = {"url": url, "event_types": [PlacementExtended.type], "secret": receiver.secret}
        created = await api.post("/v1/webhooks/subscriptions", json=body)
        assert created.status_code == 201, created.text
        _, meta = await publish(kafka, topic_prefix, application, extended)
        told = await notifications(kafka, topic_prefix, expect=4)  # the citizen's letter, 3 failed attempts
        async with serving(receiver, receiver_port):  # the receiver is back
            await _until(lambda: bool(receiver.received))
        status = (await api.get(f"/v1/webhooks/subscriptions/{created.json()['id']}")).json()["status"]

    assert [(r.delivery_id, r.status, r.verified) for r in receiver.received] == [
        (f"event:{meta.id}:{created.json()['id']}:webhook", 204, True)
    ]
    failed = [e for e in told if e.channel == "webhook"]
    assert len(failed) >= 3 and all(isinstance(e, NotificationFailed) and e.retryable for e in failed)
    assert {e.reason for e in failed} == {"ConnectError"}
    assert status == "active"


async def test_a_paused_subscription_is_probed_and_resumes_by_itself_delivering_what_waited_in_order(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(failures=None)
    application = submitted()
    extended, ended = about(PlacementExtended, application), about(PlacementEnded, application)
    settings = settings_for(delivery_max_attempts=2, webhook_probe_seconds=0.3)
    async with (
        serving(receiver, receiver_port) as url,
        running_notify(settings, authenticator, integrator) as api,
    ):
        types = [PlacementExtended.type, PlacementEnded.type]
        created = await api.post(
            "/v1/webhooks/subscriptions", json={"url": url, "event_types": types, "secret": receiver.secret}
        )
        subscription = f"/v1/webhooks/subscriptions/{created.json()['id']}"
        _, first, second = await publish(kafka, topic_prefix, application, extended, ended)
        await read_events(kafka, topic_prefix + WEBHOOK_DEAD_LETTERS, expect=1)
        assert (await api.get(subscription)).json()["status"] == "failing"
        await _until(lambda: len(receiver.received) >= 4)  # two attempts, then probes refused: still paused
        assert (await api.get(subscription)).json()["status"] == "failing"

        receiver.failures = 0  # the receiver is back; nobody calls /reactivate
        await _until(lambda: sum(r.status == 204 for r in receiver.received) == 2)
        status = (await api.get(subscription)).json()["status"]

    first_id, second_id = (f"event:{m.id}:{created.json()['id']}:webhook" for m in (first, second))
    accepted = [r.delivery_id for r in receiver.received if r.status == 204]
    assert accepted == [first_id, second_id]
    assert {r.delivery_id for r in receiver.received if r.status == 503} == {first_id}  # the later one waited
    assert all(r.verified for r in receiver.received)
    assert status == "active"


async def _until(done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "waited in vain"
        await asyncio.sleep(0.05)


async def test_the_delivery_log_shows_every_delivery_newest_first_page_by_page_to_the_owner_and_an_auditor(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    callers: Callers,
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(failures=None)
    application = submitted()
    extended, ended = about(PlacementExtended, application), about(PlacementEnded, application)
    owner = callers.integrator(PlacementExtended.type, PlacementEnded.type)
    settings = settings_for(delivery_max_attempts=2, webhook_probe_seconds=3600)
    async with serving(receiver, receiver_port) as url, running_notify(settings, authenticator, owner) as api:
        types = [PlacementExtended.type, PlacementEnded.type]
        created = await api.post(
            "/v1/webhooks/subscriptions", json={"url": url, "event_types": types, "secret": receiver.secret}
        )
        log = f"/v1/webhooks/subscriptions/{created.json()['id']}/deliveries"
        _, first, second = await publish(kafka, topic_prefix, application, extended, ended)
        await read_events(kafka, topic_prefix + WEBHOOK_DEAD_LETTERS, expect=1)
        page = (await api.get(log, params={"limit": 1})).json()
        last = (await api.get(log, params={"limit": 1, "cursor": page["next_cursor"]})).json()
        whole = await api.get(log, headers=callers.auditor())
        foreign = await api.get(log, headers=callers.integrator(PlacementExtended.type))
        forged = await api.get(log, params={"cursor": "bm90IG91cnM"})

    def line(delivery: dict[str, Any]) -> tuple[Any, ...]:
        keys = ("event_id", "event_type", "status", "attempts", "last_error")
        return tuple(delivery[key] for key in keys) + (delivery["next_attempt_at"] is not None,)

    assert [line(d) for d in page["items"]] == [(str(second.id), ended.type, "pending", 0, None, True)]
    assert [line(d) for d in last["items"]] == [(str(first.id), extended.type, "dead", 2, "HTTP 503", True)]
    assert last["next_cursor"] is None and last["items"][0]["last_attempt_at"] is not None
    assert whole.json() == {"items": page["items"] + last["items"], "next_cursor": None}
    assert (foreign.status_code, foreign.json()["code"]) == (404, "unknown_subscription")
    assert (forged.status_code, forged.json()["code"]) == (400, "cursor_invalid")
