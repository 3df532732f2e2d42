"""Webhooks to a real HTTP receiver on loopback that checks every signature: retries, dead letters, resumption."""

import json
from uuid import UUID, uuid4

from contracts.notify import WEBHOOK_DEAD_LETTERS, NotificationFailed, NotificationSent, WebhookDeadLettered
from contracts.subsidy import PlacementEnded, PlacementExtended
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish, read_events
from tests.notify.integration.conftest import (
    SettingsFactory,
    WebhookReceiver,
    about,
    notifications,
    running_notify,
    serving,
    submitted,
)


def _secret() -> str:
    return f"whsec-{uuid4().hex}"


async def test_a_receiver_failing_three_times_gets_the_event_once_more_after_backoff_and_no_more(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(_secret(), failures=3)
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


async def test_a_receiver_that_always_fails_ends_in_the_dead_letter_topic_and_resumes_where_it_stopped(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    receiver = WebhookReceiver(_secret(), failures=None)
    application = submitted()
    extended, ended = about(PlacementExtended, application), about(PlacementEnded, application)
    async with (
        serving(receiver, receiver_port) as url,
        running_notify(settings_for(delivery_max_attempts=3), authenticator, integrator) as api,
    ):
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
