"""The delivery worker: sends what the handlers recorded, after their transactions, and records each outcome.

A delivery is claimed by moving its due time one lease ahead (a statement of its own), sent with no transaction
open, and its outcome recorded in a unit of work that also puts `NotificationSent` or `NotificationFailed` (and, for
a webhook that failed every attempt, `WebhookDeadLettered`) in the outbox. A failed attempt is retried with capped
exponential backoff for a set time (`RetryPolicy`); a webhook given up pauses its subscription, whose dead letter is
then tried again now and then as a probe: the first one accepted resumes the subscription, with no operator needed.

If the process dies after sending and before recording, the lease runs out and the delivery is sent again: at least
once, never lost, and every repeat carries the same dedup key (Message-ID, Digital Post letter id, `webhook-id`) for
the receiver to drop it by.

An idle loop waits for `due` to ring, which a transaction that recorded deliveries does once it has committed (and
recording a webhook as sent, which makes its subscription's next delivery due), so a notice goes out at once rather
than at the next poll; the poll stays for retries falling due and other replicas' deliveries. A loop looks again at
once only when its claim saw another delivery due, so finishing a delivery costs no fruitless look.
"""

import asyncio
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

import structlog
from opentelemetry.trace import StatusCode

from contracts import notify as published
from contracts.envelope import Metadata
from jobbro import tracing
from jobbro.runtime import Runtime
from services.notify import store
from services.notify.domain import Channel, Delivery, DeliveryFailed, RetryPolicy
from services.notify.doorbell import Doorbell

log = structlog.get_logger(__name__)


class Sender(Protocol):
    """One channel: deliver, or raise `DeliveryFailed` with a reason free of personal data."""

    async def send(self, delivery: Delivery) -> None: ...


class DeliveryWorker:
    """Claims due deliveries, `concurrency` at a time, until cancelled."""

    def __init__(
        self,
        runtime: Runtime,
        senders: Mapping[Channel, Sender],
        policy: RetryPolicy,
        *,
        lease_seconds: float,
        poll_seconds: float,
        concurrency: int,
        due: Doorbell | None = None,
    ) -> None:
        self._runtime = runtime
        self._senders = senders
        self._policy = policy
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self._concurrency = concurrency
        self._due = due or Doorbell()

    async def run(self) -> None:
        await asyncio.gather(*(self._loop() for _ in range(self._concurrency)))

    async def _loop(self) -> None:
        while True:
            try:
                claim = await self.deliver_one()
            except Exception as exc:  # the worker outlives database outages; a claimed delivery's lease runs out
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise  # asyncpg turns a cancellation inside a transaction into InterfaceError: stop anyway
                log.warning("delivery_worker_failed", error=repr(exc))
                claim = None
            if claim is None or not claim.more_due:
                await self._due.wait(self._poll_seconds)  # the poll: retries fall due unannounced

    async def deliver_one(self) -> store.Claim | None:
        """Attempt the oldest due delivery and record the outcome; None when nothing is due."""
        async with self._runtime.pool.acquire() as conn:
            claim = await store.claim_due(conn, self._lease_seconds)
        if claim is None:
            return None
        delivery, cause = claim.delivery, claim.cause
        channel = delivery.recipient.channel.value
        with tracing.continuing(
            f"deliver {channel}", cause.traceparent, **{"jobbro.channel": channel, "jobbro.template": delivery.template}
        ) as span:
            try:
                await self._senders[delivery.recipient.channel].send(delivery)
            except DeliveryFailed as failure:
                span.set_status(StatusCode.ERROR, failure.reason)
                await self._record_failure(delivery, cause, failure)
            except Exception as exc:  # a bug in a channel: counted as a failed attempt, so it cannot block forever
                log.error("delivery_crashed", dedup_key=delivery.dedup_key, error_class=type(exc).__name__)
                span.set_status(StatusCode.ERROR, type(exc).__name__)
                await self._record_failure(delivery, cause, DeliveryFailed(type(exc).__name__))
            else:
                await self._record_sent(delivery, cause)
        return claim

    async def _record_sent(self, delivery: Delivery, cause: Metadata) -> None:
        async with self._runtime.unit_of_work(cause) as uow:
            recorded = await store.mark_sent(uow.conn, delivery)
            if recorded:
                uow.publish(published.NotificationSent(**_notification(delivery), sent_at=datetime.now(UTC)))
            if recorded and delivery.probe:
                assert delivery.endpoint is not None, "only a webhook delivery is probed"
                subscription_id = delivery.endpoint.subscription_id
                if (resumed := await store.resume_failing(uow.conn, subscription_id)) is not None:
                    log.info("subscription_resumed", subscription_id=str(subscription_id), resumed=resumed)
            if delivery.endpoint is not None:
                uow.after_commit(self._due.ring)  # the subscription's next delivery is due from this commit
            await uow.commit()
        log.info("delivery_sent", dedup_key=delivery.dedup_key, attempt=delivery.attempts + 1)

    async def _record_failure(self, delivery: Delivery, cause: Metadata, failure: DeliveryFailed) -> None:
        if delivery.probe:
            await self._record_failed_probe(delivery, cause, failure)
            return
        attempts = delivery.attempts + 1
        now = datetime.now(UTC)
        failing_for = (now - delivery.failing_since).total_seconds() if delivery.failing_since else 0.0
        delay = self._policy.next_delay(attempts, failing_for, permanent=failure.permanent, chance=random.random())
        async with self._runtime.unit_of_work(cause) as uow:
            if delay is not None:
                recorded = await store.mark_retry(uow.conn, delivery, failure.reason, delay)
            else:
                recorded = await store.mark_given_up(uow.conn, delivery, failure.reason, self._policy.probe_seconds)
            if recorded:
                uow.publish(
                    published.NotificationFailed(
                        **_notification(delivery),
                        failed_at=now,
                        reason=failure.reason,
                        attempts=attempts,
                        retryable=delay is not None,
                    )
                )
            if recorded and delay is None and delivery.endpoint is not None:
                await store.mark_subscription_failing(uow.conn, delivery.endpoint.subscription_id)
                uow.publish(
                    published.WebhookDeadLettered(
                        subscription_id=delivery.endpoint.subscription_id,
                        delivery_id=delivery.dedup_key,
                        attempts=attempts,
                        reason=failure.reason,
                        dead_lettered_at=now,
                        body=delivery.body,
                    )
                )
            await uow.commit()
        log.warning(
            "delivery_failed",
            dedup_key=delivery.dedup_key,
            attempt=attempts,
            reason=failure.reason,
            retry_in_seconds=delay,
        )

    async def _record_failed_probe(self, delivery: Delivery, cause: Metadata, failure: DeliveryFailed) -> None:
        """The paused subscription's receiver is still not back: probe again later. Its dead letter was announced
        when it was given up, so a failed probe publishes nothing; the delivery log counts it."""
        async with self._runtime.unit_of_work(cause) as uow:
            await store.mark_retry(uow.conn, delivery, failure.reason, self._policy.probe_seconds)
            await uow.commit()
        log.info(
            "probe_failed",
            dedup_key=delivery.dedup_key,
            reason=failure.reason,
            retry_in_seconds=self._policy.probe_seconds,
        )


def _notification(delivery: Delivery) -> dict[str, Any]:
    """The fields every notification event repeats: which notice, to whom, how; never what it said."""
    return {
        "notification_id": uuid4(),
        "dedup_key": delivery.dedup_key,
        "application_id": delivery.application_id,
        "recipient_role": published.RecipientRole(delivery.recipient.role.value),
        "channel": published.Channel(delivery.recipient.channel.value),
        "template": delivery.template,
    }
