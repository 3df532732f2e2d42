"""Each handler's decision path on the in-memory unit of work: which deliveries an event records, to whom, and what
a subscription command changes, without PostgreSQL or Kafka (tests/notify/integration runs them on both)."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from contracts.benefits import CitizenErased
from contracts.envelope import Event, Metadata, encode
from contracts.subsidy import ApplicationApproved, ApplicationReferred
from jobbro.principal import Principal, Role
from jobbro.testing import InMemoryWork
from services.notify import handlers
from services.notify.digital_post import FileDropDigitalPost
from services.notify.domain import Channel, EventTypeNotGranted, Recipient, SubscriptionStatus, UnknownSubscription
from services.notify.domain import Role as RecipientRole
from services.notify.handlers import Context
from services.notify.links import RepresentativeLinks
from services.notify.render import Renderer
from services.notify.settings import NotifySettings
from services.notify.targets import TargetGuard
from tests.notify.dns import FakeDns
from tests.notify.integration.conftest import about, submitted
from tests.notify.memory import InMemoryNotices

Work = InMemoryWork[InMemoryNotices]
APPROVED = ApplicationApproved.type


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    settings = NotifySettings(environment="development")
    return Context(
        Recipient(RecipientRole.CASEWORKER, Channel.EMAIL, "jobcenter@example.dk", "da"),
        Renderer(settings.portal_url),
        TargetGuard(https_only=True, allowed=(), resolver=FakeDns()),
        links=RepresentativeLinks.from_settings(settings.link_seal_keys, settings.link_url),
        letters=FileDropDigitalPost(tmp_path),
    )


@pytest.fixture
def uow() -> Work:
    return InMemoryWork(InMemoryNotices())


def _meta(event: Event) -> Metadata:
    return encode(event, source="test")[0]


def _integrator(*event_types: str, subject: str = "integrator-a") -> Principal:
    return Principal(subject, frozenset({Role.INTEGRATOR}), event_types=frozenset(event_types))


async def test_an_approval_is_told_to_the_employer_and_the_citizen_once_and_wakes_the_sender(
    ctx: Context, uow: Work
) -> None:
    application = submitted()
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    approved = about(ApplicationApproved, application)
    meta = _meta(approved)  # delivered twice: the same event
    await handlers.on_event(approved, meta, uow, ctx)
    recorded = len(uow.store.deliveries)
    await handlers.on_event(approved, meta, uow, ctx)
    told = [(d.template, d.recipient.role) for d in uow.store.deliveries]
    assert told == [
        ("application-approved.employer.v1", RecipientRole.EMPLOYER),
        ("application-approved.citizen.v1", RecipientRole.CITIZEN),
    ]
    assert len(uow.store.deliveries) == recorded
    assert uow.callbacks


async def test_nothing_is_written_to_an_erased_citizen(ctx: Context, uow: Work) -> None:
    application = submitted()
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    erased = CitizenErased(erasure_id=uuid4(), citizen_ref=application.citizen_ref, erased_at=datetime.now(UTC))
    await handlers.on_citizen_erased(erased, _meta(erased), uow, ctx)
    approved = about(ApplicationApproved, application)
    await handlers.on_event(approved, _meta(approved), uow, ctx)
    assert RecipientRole.CITIZEN not in {d.recipient.role for d in uow.store.deliveries}


async def test_an_event_is_forwarded_once_to_each_subscription_of_its_type_not_to_a_cancelled_one(
    ctx: Context, uow: Work
) -> None:
    by = _integrator(APPROVED)
    kept = await handlers.subscribe("https://example.dk/hook", [APPROVED], "whsec_x", by, uow, ctx)
    cancelled = await handlers.subscribe("https://example.dk/hook2", [APPROVED], "whsec_y", by, uow, ctx)
    await handlers.cancel(cancelled.id, by, uow)
    application = submitted()
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    approved = about(ApplicationApproved, application)
    meta = _meta(approved)  # delivered twice: the same event
    await handlers.on_event(approved, meta, uow, ctx)
    await handlers.on_event(approved, meta, uow, ctx)
    assert [d.subscription_id for d in uow.store.deliveries if d.subscription_id] == [kept.id]


async def test_a_subscription_to_a_type_outside_the_grant_is_refused(ctx: Context, uow: Work) -> None:
    with pytest.raises(EventTypeNotGranted):
        await handlers.subscribe("https://example.dk/hook", [APPROVED], "whsec_x", _integrator(), uow, ctx)


async def test_another_integrators_subscription_is_unknown_and_an_operator_reads_it(ctx: Context, uow: Work) -> None:
    made = await handlers.subscribe("https://example.dk/hook", [APPROVED], "whsec_x", _integrator(APPROVED), uow, ctx)
    with pytest.raises(UnknownSubscription):
        await handlers.subscription(made.id, _integrator(APPROVED, subject="integrator-b"), uow)
    operator = Principal("operator", frozenset({Role.OPERATOR}))
    assert (await handlers.subscription(made.id, operator, uow)).status is SubscriptionStatus.ACTIVE


async def test_a_referred_change_is_told_even_after_the_application_itself_was_referred(
    ctx: Context, uow: Work
) -> None:
    application = submitted()
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    referred = about(ApplicationReferred, application, change=None)
    change = about(ApplicationReferred, application)
    for event in (referred, change, change):
        await handlers.on_event(event, _meta(event), uow, ctx)
    told = [d.recipient.role for d in uow.store.deliveries if d.template.startswith("application-referred")]
    assert told == [RecipientRole.EMPLOYER, RecipientRole.CASEWORKER] * 2
    assert "forlængelse" in (uow.store.deliveries[-1].body or "")
