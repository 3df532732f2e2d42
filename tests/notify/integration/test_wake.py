"""The delivery worker is woken by the commit that recorded a delivery; its poll is only the fallback."""

from uuid import uuid4

from contracts.notify import NotificationSent
from contracts.subsidy import ApplicationRejected
from jobbro.testing import publish
from tests.notify.integration.conftest import (
    Mailbox,
    SettingsFactory,
    about,
    notifications,
    running_notify,
    submitted,
)

NEVER = 3600.0
"""A poll interval no test waits out: what is delivered was delivered because the worker was woken."""


async def test_notices_recorded_while_the_worker_idles_are_sent_though_it_would_not_poll_again(
    kafka_bootstrap: str, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    first, second = (submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example") for _ in range(2))
    async with running_notify(settings_for(smtp_port=port, delivery_poll_seconds=NEVER)):
        await publish(kafka_bootstrap, topic_prefix, first, about(ApplicationRejected, first))
        await notifications(kafka_bootstrap, topic_prefix, expect=1)
        await publish(kafka_bootstrap, topic_prefix, second, about(ApplicationRejected, second))
        told = await notifications(kafka_bootstrap, topic_prefix, expect=2)

    assert [type(event) for event in told] == [NotificationSent, NotificationSent]
    assert [mail["To"] for mail in box.messages] == [first.employer_email, second.employer_email]
