"""The delivery worker is woken by the commit that recorded a delivery; its poll is only the fallback."""

import json
from uuid import uuid4

from contracts.notify import NotificationSent
from contracts.subsidy import ApplicationRejected, PlacementConfirmed
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish
from tests.notify.integration.conftest import (
    Mailbox,
    SettingsFactory,
    WebhookReceiver,
    about,
    notifications,
    running_notify,
    serving,
    submitted,
)

NEVER = 3600.0
"""A poll interval no test waits out: what is delivered was delivered because the worker was woken."""


async def test_notices_recorded_while_the_worker_idles_are_sent_though_it_would_not_poll_again(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    first, second = (submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example") for _ in range(2))
    async with running_notify(settings_for(smtp_port=port, delivery_poll_seconds=NEVER)):
        await publish(kafka, topic_prefix, first, about(ApplicationRejected, first))
        await notifications(kafka, topic_prefix, expect=1)
        await publish(kafka, topic_prefix, second, about(ApplicationRejected, second))
        told = await notifications(kafka, topic_prefix, expect=2)

    assert [type(event) for event in told] == [NotificationSent, NotificationSent]
    assert [mail["To"] for mail in box.messages] == [first.employer_email, second.employer_email]


async def test_a_subscriptions_next_event_goes_out_once_the_one_before_it_was_delivered(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    authenticator: Authenticator,
    integrator: dict[str, str],
    receiver_port: int,
) -> None:
    """Three events in one batch: the later ones are due only once the one before is sent, and nothing rings then
    unless recording a webhook as sent does (one ring the worker keeps, a second is lost while it is busy)."""
    receiver = WebhookReceiver(failures=0)
    application = submitted()
    confirmations = [about(PlacementConfirmed, application) for _ in range(3)]  # one key: read in this order
    subscription = {"event_types": [PlacementConfirmed.type], "secret": receiver.secret}
    async with (
        serving(receiver, receiver_port) as url,
        running_notify(settings_for(delivery_poll_seconds=NEVER), authenticator, integrator) as api,
    ):
        created = await api.post("/v1/webhooks/subscriptions", json={"url": url, **subscription})
        assert created.status_code == 201, created.text
        sent = await publish(kafka, topic_prefix, *confirmations)
        told = await notifications(kafka, topic_prefix, expect=3)

    assert [json.loads(r.body)["id"] for r in receiver.received] == [str(meta.id) for meta in sent]
    assert [type(event) for event in told] == [NotificationSent] * 3
