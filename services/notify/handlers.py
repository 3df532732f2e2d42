"""Handlers: events become delivery rows (one per notice, one per webhook subscription); commands change subscriptions.

Nothing here sends. An event handler runs inside the transaction that consumes the event, and a send there would be
repeated whenever that transaction is; the delivery worker sends after the commit, woken by `Context.deliveries_due`.
No handler commits: the kit does for events, the API for commands.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import structlog

from contracts.benefits import CitizenErased
from contracts.catalog import EVENT_TYPES
from contracts.envelope import Event, Metadata
from contracts.subsidy import (
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    PositionApplicationSubmitted,
    RepresentativeApprovalRequested,
)
from jobbro import pages, shredding
from jobbro.principal import Principal
from jobbro.principal import Role as AccessRole
from jobbro.uow import Work
from services.notify import notices, webhooks
from services.notify.digital_post import FileDropDigitalPost
from services.notify.domain import (
    Audience,
    Channel,
    LoggedDelivery,
    Notice,
    Recipient,
    Role,
    Subscription,
    SubscriptionRefused,
    SubscriptionStatus,
    UnknownSubscription,
    check_event_types,
    check_granted,
    webhook_dedup_key,
)
from services.notify.doorbell import Doorbell
from services.notify.links import RepresentativeLinks
from services.notify.render import Renderer
from services.notify.store import Notices
from services.notify.targets import TargetGuard, TargetRefused

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Context:
    """What the handlers need besides the unit of work, built once from the settings."""

    caseworker: Recipient
    renderer: Renderer
    targets: TargetGuard
    """Where webhooks may go: checked on subscribing here, and again by the sender at each delivery."""
    links: RepresentativeLinks
    letters: FileDropDigitalPost
    """The Digital Post drop, whose letters to an erased citizen are deleted."""
    deliveries_due: Doorbell = field(default_factory=Doorbell)
    """Rung after a commit that made deliveries due (once per delivery recorded): wakes the delivery worker."""

    def wake_after_commit(self, uow: Work[Notices]) -> None:
        uow.after_commit(self.deliveries_due.ring)


async def on_application_submitted(
    event: ApplicationSubmitted | ApplicationSubmittedV2, meta: Metadata, uow: Work[Notices], ctx: Context
) -> None:
    """Remember whom to tell about the application, and in which language; a v1 event's CPR number is not kept.

    For an application that began as a position, this completes its audience with the citizen. Webhooks get v2 like
    any event (v1 carries a CPR number, so it is not offered to them).
    """
    audience = Audience(
        application_id=event.application_id,
        scheme=event.scheme.value,
        position_title=event.position_title,
        start=event.period.start,
        end=event.period.end,
        citizen_ref=event.citizen_ref,
        citizen_language=event.citizen_language.value,
        employer_cvr=event.employer_cvr,
        employer_name=event.employer_name,
        employer_email=event.employer_email,
        employer_language=event.employer_language.value,
    )
    await uow.store.save_audience(audience)
    await on_event(event, meta, uow, ctx)


async def on_position_submitted(
    event: PositionApplicationSubmitted, meta: Metadata, uow: Work[Notices], ctx: Context
) -> None:
    """Remember whom to tell about an application for a position (no citizen yet); webhooks get it like any event."""
    audience = Audience(
        application_id=event.application_id,
        scheme=event.scheme.value,
        position_title=event.position_title,
        start=event.period.start,
        end=event.period.end,
        citizen_ref=None,
        citizen_language=None,
        employer_cvr=event.employer_cvr,
        employer_name=event.employer_name,
        employer_email=event.employer_email,
        employer_language=event.employer_language.value,
    )
    await uow.store.save_audience(audience)
    await on_event(event, meta, uow, ctx)


async def on_citizen_erased(event: CitizenErased, meta: Metadata, uow: Work[Notices], ctx: Context) -> None:
    """Benefits erased the citizen: nothing is written to them again, the texts of the letters to them are forgotten
    (one not yet sent is not sent), and their letters in the drop are deleted. What stays names them by reference."""
    erasure = shredding.Erasure(event.erasure_id, event.citizen_ref, "erased in benefits' registry", "benefits")
    forgotten = await uow.store.erase_citizen(erasure)
    deleted = ctx.letters.forget(event.citizen_ref)
    log.info("citizen_erased", erasure_id=str(event.erasure_id), deliveries=forgotten, letters=deleted)


async def on_event(event: Event, meta: Metadata, uow: Work[Notices], ctx: Context) -> None:
    """Record a delivery per notice the event gives and per webhook subscribed to its type.

    An approval request's sealed link is opened first, so that the representative's mail carries the link.
    """
    if isinstance(event, RepresentativeApprovalRequested):
        event = ctx.links.opened(event)
    rule = notices.RULES.get(type(event))
    if rule is not None:
        application_id: UUID | None = getattr(event, "application_id", None)
        audience = await uow.store.audience(application_id) if application_id else None
        for notice in rule(event, audience, ctx.caseworker):
            await _record(notice, meta, uow, ctx)
    if meta.type in notices.FORWARDED:
        await _forward(event, meta, uow, ctx)


async def _record(notice: Notice, meta: Metadata, uow: Work[Notices], ctx: Context) -> None:
    if notice.recipient.role is Role.CITIZEN and await uow.store.erased(notice.recipient.address):
        log.info("notice_to_erased_citizen_dropped", dedup_key=notice.dedup_key)
        return
    message = ctx.renderer.render(notice.template, notice.language, notice.facts)
    recorded = await uow.store.add_delivery(
        dedup_key=notice.dedup_key,
        recipient=notice.recipient,
        template=notice.template,
        subject=message.subject,
        body=message.body,
        application_id=notice.application_id,
        cause=meta,
    )
    if recorded:
        ctx.wake_after_commit(uow)
    log.info("notice_recorded" if recorded else "notice_already_recorded", dedup_key=notice.dedup_key)


async def _forward(event: Event, meta: Metadata, uow: Work[Notices], ctx: Context) -> None:
    subscribers = await uow.store.subscribers(meta.type)
    if not subscribers:
        return
    bodies = {granted: webhooks.cloudevent(meta, event, sensitive=granted) for granted in (False, True)}
    for subscription_id, sensitive in subscribers:
        body = bodies[sensitive]
        recorded = await uow.store.add_delivery(
            dedup_key=webhook_dedup_key(meta.id, subscription_id),
            recipient=Recipient(Role.INTEGRATOR, Channel.WEBHOOK, str(subscription_id), None),
            template=meta.type,
            subject=None,
            body=body,
            application_id=getattr(event, "application_id", None),
            cause=meta,
            subscription_id=subscription_id,
        )
        if recorded:
            ctx.wake_after_commit(uow)


async def subscribe(
    url: str, event_types: Sequence[str], secret: str, by: Principal, uow: Work[Notices], ctx: Context
) -> Subscription:
    """A new webhook subscription of `by`, for event types its grant names; it receives the events of its types
    published from now on, with the fields the catalog marks sensitive only if `by` holds that grant."""
    check_granted(event_types, by.event_types)
    await _check(url, event_types, ctx)
    subscription = await uow.store.add_subscription(
        Subscription(
            uuid4(),
            url,
            tuple(dict.fromkeys(event_types)),
            SubscriptionStatus.ACTIVE,
            owner=by.subject,
            sensitive_fields=by.has(AccessRole.SENSITIVE_FIELDS),
        ),
        secret,
    )
    log.info(
        "subscription_created",
        subscription_id=str(subscription.id),
        event_types=subscription.event_types,
        owner=subscription.owner,
        sensitive_fields=subscription.sensitive_fields,
    )
    return subscription


async def _check(url: str, event_types: Sequence[str], ctx: Context) -> None:
    """Refuse a malformed URL, event types not offered, and a target that is not public (resolving its name)."""
    check_event_types(event_types, notices.FORWARDED, frozenset(EVENT_TYPES))
    try:
        await ctx.targets.check(url)
    except TargetRefused as refused:
        raise SubscriptionRefused(str(refused)) from None


async def subscription(
    subscription_id: UUID,
    by: Principal,
    uow: Work[Notices],
    *,
    readers: tuple[AccessRole, ...] = (AccessRole.OPERATOR,),
) -> Subscription:
    """A subscription `by` may see: its own, or any for the `readers`; another's is answered as unknown."""
    found = await uow.store.subscription(subscription_id)
    if found is None or not (any(by.has(role) for role in readers) or found.owner == by.subject):
        raise UnknownSubscription(f"no subscription {subscription_id}")
    return found


async def delivery_log(
    subscription_id: UUID, cursor: str | None, limit: int, by: Principal, uow: Work[Notices]
) -> tuple[list[LoggedDelivery], str | None]:
    """A page of the subscription's delivery log, newest first, for its owner, an operator or an auditor, and the
    cursor of the next page (None on the last): every delivery is on some page."""
    await subscription(subscription_id, by, uow, readers=(AccessRole.OPERATOR, AccessRole.AUDITOR))
    before = pages.decode(cursor, lambda key: int(key[0])) if cursor else None
    rows = await uow.store.delivery_log(subscription_id, before, limit + 1)
    return pages.page(rows, limit, key=lambda delivery: (delivery.id,))


async def subscriptions(by: Principal, uow: Work[Notices], limit: int, after: UUID | None) -> list[Subscription]:
    """The subscriptions `by` may see (its own, or every one for an operator), `limit` of them after `after`."""
    owner = None if by.has(AccessRole.OPERATOR) else by.subject
    return await uow.store.subscriptions(owner, limit, after)


async def reactivate(
    subscription_id: UUID, url: str | None, by: Principal, uow: Work[Notices], ctx: Context
) -> Subscription:
    """Deliver again, from the delivery that was dead-lettered, optionally to a corrected URL."""
    existing = await subscription(subscription_id, by, uow)
    if existing.status is SubscriptionStatus.CANCELLED:
        raise SubscriptionRefused("a cancelled subscription cannot be reactivated")
    if url is not None:
        await _check(url, existing.event_types, ctx)
    reactivated = await uow.store.set_subscription_status(subscription_id, SubscriptionStatus.ACTIVE, url)
    assert reactivated is not None  # the row was read in this transaction
    resumed = await uow.store.resume_dead_deliveries(subscription_id)
    if resumed:
        ctx.wake_after_commit(uow)
    log.info("subscription_reactivated", subscription_id=str(subscription_id), resumed=resumed)
    return reactivated


async def cancel(subscription_id: UUID, by: Principal, uow: Work[Notices]) -> None:
    """Stop delivering; deliveries not yet made are not made."""
    await subscription(subscription_id, by, uow)  # another's, or none: unknown
    await uow.store.set_subscription_status(subscription_id, SubscriptionStatus.CANCELLED)
    dropped = await uow.store.drop_undelivered(subscription_id)
    log.info("subscription_cancelled", subscription_id=str(subscription_id), dropped=dropped)
