"""One test suite for the `Notices` port, run against PostgreSQL (`PgNotices`) and the in-memory fake the handlers'
unit tests use: what the fake answers, the database answers too. A subclass gives the `notices` fixture."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from contracts.benefits import CitizenErased
from contracts.envelope import Metadata, encode
from jobbro.shredding import Erasure
from services.notify.domain import Audience, Channel, Recipient, Role, Subscription, SubscriptionStatus, citizen
from services.notify.store import Notices


def _cause() -> Metadata:
    event = CitizenErased(erasure_id=uuid4(), citizen_ref=f"c-{uuid4().hex[:16]}", erased_at=datetime.now(UTC))
    return encode(event, source="test")[0]


def _audience(citizen_ref: str | None, email: str | None = "hr@example.dk") -> Audience:
    return Audience(
        uuid4(),
        "internship",
        "VVS-assistent",
        date(2026, 4, 6),
        date(2026, 5, 1),
        citizen_ref,
        "da" if citizen_ref else None,
        "12345678",
        "Hansen VVS ApS",
        email,
        "da",
    )


async def _deliver(notices: Notices, recipient: Recipient, key: str, subscription_id: UUID | None = None) -> bool:
    return await notices.add_delivery(
        dedup_key=key,
        recipient=recipient,
        template="application-approved",
        subject="Godkendt",
        body="Ansøgningen er godkendt.",
        application_id=None,
        cause=_cause(),
        subscription_id=subscription_id,
    )


async def _subscribed(notices: Notices, *types: str, owner: str = "integrator", sensitive: bool = False) -> UUID:
    subscription = Subscription(uuid4(), "https://example.dk/hook", types, SubscriptionStatus.ACTIVE, owner, sensitive)
    return (await notices.add_subscription(subscription, "whsec_secret")).id


def _webhook(subscription_id: UUID) -> Recipient:
    return Recipient(Role.INTEGRATOR, Channel.WEBHOOK, str(subscription_id), None)


class NoticesContract:
    async def test_an_audience_naming_the_citizen_completes_the_positions_and_is_then_kept(
        self, notices: Notices
    ) -> None:
        position = _audience(None)
        await notices.save_audience(position)
        named = replace(position, citizen_ref="c-0123456789abcdef", citizen_language="da", employer_email=None)
        await notices.save_audience(named)
        await notices.save_audience(replace(named, citizen_ref="c-someone-else"))
        assert await notices.audience(position.application_id) == replace(named, employer_email="hr@example.dk")
        assert await notices.audience(uuid4()) is None

    async def test_a_delivery_is_recorded_once_per_dedup_key(self, notices: Notices) -> None:
        key = f"k-{uuid4()}"
        assert await _deliver(notices, citizen("c-0123456789abcdef"), key)
        assert not await _deliver(notices, citizen("c-0123456789abcdef"), key)

    async def test_an_erased_citizens_deliveries_are_forgotten_and_nothing_is_written_to_them(
        self, notices: Notices
    ) -> None:
        ref = f"c-{uuid4().hex[:16]}"
        await _deliver(notices, citizen(ref), f"k-{uuid4()}")
        await _deliver(notices, citizen(f"c-{uuid4().hex[:16]}"), f"k-{uuid4()}")
        assert not await notices.erased(ref)
        assert await notices.erase_citizen(Erasure(uuid4(), ref, "erased in the registry", "benefits")) == 1
        assert await notices.erased(ref)

    async def test_subscribers_are_the_subscriptions_not_cancelled_of_the_event_type(self, notices: Notices) -> None:
        kind = f"dk.jobbro.test.{uuid4().hex}.v1"
        active = await _subscribed(notices, kind, sensitive=True)
        failing = await _subscribed(notices, kind)
        cancelled = await _subscribed(notices, kind)
        await _subscribed(notices, "dk.jobbro.other.v1")
        await notices.set_subscription_status(failing, SubscriptionStatus.FAILING)
        await notices.set_subscription_status(cancelled, SubscriptionStatus.CANCELLED)
        assert await notices.subscribers(kind) == sorted([(active, True), (failing, False)])

    async def test_an_owners_subscriptions_are_listed_by_id_a_page_at_a_time(self, notices: Notices) -> None:
        owner = f"integrator-{uuid4()}"
        mine = sorted([await _subscribed(notices, "dk.jobbro.x.v1", owner=owner) for _ in range(3)])
        await _subscribed(notices, "dk.jobbro.x.v1")
        first = await notices.subscriptions(owner, 2)
        assert [s.id for s in first] == mine[:2]
        assert [s.id for s in await notices.subscriptions(owner, 2, first[-1].id)] == mine[2:]

    async def test_a_status_change_keeps_the_url_unless_a_new_one_is_given(self, notices: Notices) -> None:
        subscription_id = await _subscribed(notices, "dk.jobbro.x.v1")
        paused = await notices.set_subscription_status(subscription_id, SubscriptionStatus.FAILING)
        assert paused is not None and paused.url == "https://example.dk/hook"
        moved = await notices.set_subscription_status(subscription_id, SubscriptionStatus.ACTIVE, "https://x.dk/h")
        assert moved is not None and (moved.status, moved.url) == (SubscriptionStatus.ACTIVE, "https://x.dk/h")
        assert await notices.subscription(subscription_id) == moved
        assert await notices.set_subscription_status(uuid4(), SubscriptionStatus.ACTIVE) is None

    async def test_the_delivery_log_is_newest_first_and_a_cancelled_subscriptions_open_deliveries_fail(
        self, notices: Notices
    ) -> None:
        subscription_id = await _subscribed(notices, "dk.jobbro.x.v1")
        keys = [f"k-{uuid4()}" for _ in range(3)]
        for key in keys:
            await _deliver(notices, _webhook(subscription_id), key, subscription_id)
        newest = await notices.delivery_log(subscription_id, None, 2)
        assert [line.delivery_id for line in newest] == keys[:0:-1]
        older = await notices.delivery_log(subscription_id, newest[-1].id, 2)
        assert [line.delivery_id for line in older] == keys[:1]
        assert await notices.resume_dead_deliveries(subscription_id) == 0
        assert await notices.drop_undelivered(subscription_id) == 3
        log = await notices.delivery_log(subscription_id, None, 10)
        assert {(line.status, line.last_error) for line in log} == {("failed", "subscription cancelled")}
