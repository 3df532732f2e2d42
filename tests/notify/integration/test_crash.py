"""Death between sending and recording: the notice goes out again with the same dedup key, and is recorded once.

This is the guarantee the issue asks to state: at least once, never lost, with the dedup key sent along (here the
Message-ID and `Jobbro-Delivery-Id`) so the receiver can drop the repeat.
"""

import asyncio
from collections.abc import Awaitable, Callable
from uuid import uuid4

import pytest

from contracts.notify import NotificationSent
from contracts.subsidy import ApplicationRejected
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish, running
from services.notify.app import create_context, create_runtime
from services.notify.delivery import DeliveryWorker, Sender
from services.notify.domain import Channel, Delivery, RetryPolicy
from services.notify.email import SmtpMailer
from tests.notify.integration.conftest import Mailbox, SettingsFactory, about, notifications, submitted


class _Killed(BaseException):
    """Stands for the process being killed: nothing in the worker catches it."""


class DiesAfterSending:
    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    async def send(self, delivery: Delivery) -> None:
        await self._sender.send(delivery)
        raise _Killed


async def _until_delivered(deliver_one: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await deliver_one():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("nothing became due")


async def test_a_mail_sent_just_before_a_crash_is_sent_again_with_the_same_ids_and_recorded_once(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    settings = settings_for(smtp_port=port)
    application = submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example")
    runtime = create_runtime(settings, create_context(settings))

    def worker(sender: Sender) -> DeliveryWorker:
        policy = RetryPolicy(base_seconds=0.05, max_seconds=0.2, give_up_seconds=60, probe_seconds=0.2, max_attempts=3)
        return DeliveryWorker(
            runtime, {Channel.EMAIL: sender}, policy, lease_seconds=0.5, poll_seconds=0.05, concurrency=1
        )

    async with running(runtime):
        await publish(kafka, topic_prefix, application, about(ApplicationRejected, application))
        with pytest.raises(_Killed):
            await _until_delivered(worker(DiesAfterSending(SmtpMailer(settings))).deliver_one)
        assert len(box.messages) == 1
        await _until_delivered(worker(SmtpMailer(settings)).deliver_one)  # a new process, once the lease ran out
        told = await notifications(kafka, topic_prefix, expect=1)

    first, again = box.messages
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Jobbro-Delivery-Id"] == again["Jobbro-Delivery-Id"] == told[0].dedup_key
    assert [type(event) for event in told] == [NotificationSent]
