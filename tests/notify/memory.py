"""The `Notices` port in memory, for the handlers' unit tests; `notices_contract.py` holds it to what PostgreSQL
does."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

from contracts.envelope import Metadata
from jobbro import shredding
from services.notify.domain import Audience, LoggedDelivery, Recipient, Subscription, SubscriptionStatus


@dataclass
class Recorded:
    """A delivery as its row holds it."""

    id: int
    dedup_key: str
    recipient: Recipient
    template: str
    subject: str | None
    body: str | None
    application_id: UUID | None
    cause: Metadata
    subscription_id: UUID | None
    created_at: datetime
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None


class InMemoryNotices:
    """Audiences, deliveries and subscriptions in dictionaries; `deliveries` in the order recorded."""

    def __init__(self) -> None:
        self.audiences: dict[UUID, Audience] = {}
        self.deliveries: list[Recorded] = []
        self._subscriptions: dict[UUID, Subscription] = {}
        self._erased: set[str] = set()

    async def save_audience(self, audience: Audience) -> None:
        known = self.audiences.get(audience.application_id)
        if known is None:
            self.audiences[audience.application_id] = audience
        elif known.citizen_ref is None and audience.citizen_ref is not None:
            email = audience.employer_email or known.employer_email
            self.audiences[audience.application_id] = replace(audience, employer_email=email)

    async def audience(self, application_id: UUID) -> Audience | None:
        return self.audiences.get(application_id)

    async def add_delivery(
        self,
        *,
        dedup_key: str,
        recipient: Recipient,
        template: str,
        subject: str | None,
        body: str,
        application_id: UUID | None,
        cause: Metadata,
        subscription_id: UUID | None = None,
    ) -> bool:
        if any(delivery.dedup_key == dedup_key for delivery in self.deliveries):
            return False
        self.deliveries.append(
            Recorded(
                len(self.deliveries) + 1,
                dedup_key,
                recipient,
                template,
                subject,
                body,
                application_id,
                cause,
                subscription_id,
                datetime.now(UTC),
            )
        )
        return True

    async def erase_citizen(self, erasure: shredding.Erasure) -> int:
        self._erased.add(erasure.citizen_ref)
        forgotten = [d for d in self.deliveries if d.recipient.role.value == "citizen"]
        forgotten = [d for d in forgotten if d.recipient.address == erasure.citizen_ref]
        for delivery in forgotten:
            delivery.subject = delivery.body = None
            if delivery.status != "sent":
                delivery.status, delivery.last_error = "failed", "citizen erased"
        return len(forgotten)

    async def erased(self, citizen_ref: str) -> bool:
        return citizen_ref in self._erased

    async def subscribers(self, event_type: str) -> list[tuple[UUID, bool]]:
        return [
            (s.id, s.sensitive_fields)
            for s in sorted(self._subscriptions.values(), key=lambda s: s.id)
            if event_type in s.event_types and s.status is not SubscriptionStatus.CANCELLED
        ]

    async def add_subscription(self, subscription: Subscription, secret: str) -> Subscription:
        if subscription.id in self._subscriptions:
            raise ValueError(f"subscription {subscription.id} exists")
        self._subscriptions[subscription.id] = subscription
        return subscription

    async def subscription(self, subscription_id: UUID) -> Subscription | None:
        return self._subscriptions.get(subscription_id)

    async def subscriptions(self, owner: str | None, limit: int, after: UUID | None = None) -> list[Subscription]:
        found = sorted(self._subscriptions.values(), key=lambda s: s.id)
        return [s for s in found if owner in (None, s.owner) and (after is None or s.id > after)][:limit]

    async def set_subscription_status(
        self, subscription_id: UUID, status: SubscriptionStatus, url: str | None = None
    ) -> Subscription | None:
        found = self._subscriptions.get(subscription_id)
        if found is None:
            return None
        self._subscriptions[subscription_id] = replace(found, status=status, url=url or found.url)
        return self._subscriptions[subscription_id]

    async def resume_dead_deliveries(self, subscription_id: UUID) -> int:
        dead = [d for d in self.deliveries if d.subscription_id == subscription_id and d.status == "dead"]
        for delivery in dead:
            delivery.status, delivery.attempts, delivery.last_error = "pending", 0, None
        return len(dead)

    async def drop_undelivered(self, subscription_id: UUID) -> int:
        open_ = [d for d in self.deliveries if d.subscription_id == subscription_id and d.status in ("pending", "dead")]
        for delivery in open_:
            delivery.status, delivery.last_error, delivery.body = "failed", "subscription cancelled", None
        return len(open_)

    async def delivery_log(self, subscription_id: UUID, before: int | None, limit: int) -> list[LoggedDelivery]:
        found = [
            d
            for d in reversed(self.deliveries)
            if d.subscription_id == subscription_id and (before is None or d.id < before)
        ]
        return [
            LoggedDelivery(
                id=d.id,
                delivery_id=d.dedup_key,
                event_id=d.cause.id,
                event_type=d.template,
                status=d.status,
                attempts=d.attempts,
                last_error=d.last_error,
                created_at=d.created_at,
                last_attempt_at=None,
                next_attempt_at=d.created_at if d.status in ("pending", "dead") else None,
                sent_at=None,
            )
            for d in found[:limit]
        ]
