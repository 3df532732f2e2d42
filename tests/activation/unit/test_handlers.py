"""Each handler's decision path on the in-memory unit of work: what it publishes and what the plan then holds,
without PostgreSQL or Kafka (tests/activation/integration runs the same paths on both)."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from contracts.activation import ActivationChecked, ActivationEnded, ActivationOutcome, ActivationRecorded
from contracts.benefits import CitizenErased
from contracts.envelope import Event, Metadata, encode
from jobbro.testing import InMemoryWork
from rules import Rulebook
from services.activation import handlers
from services.activation.handlers import Context
from tests.activation import events
from tests.activation.memory import InMemoryPlans

START, END = date(2026, 3, 2), date(2026, 3, 27)


@pytest.fixture
def ctx(rulebook: Rulebook) -> Context:
    return Context(rulebook=rulebook)


@pytest.fixture
def uow() -> InMemoryWork[InMemoryPlans]:
    return InMemoryWork(InMemoryPlans())


def _meta(event: Event) -> Metadata:
    return encode(event, source="test")[0]


async def test_an_application_overlapping_a_confirmed_placement_is_checked_with_the_conflict(
    uow: InMemoryWork[InMemoryPlans], ctx: Context
) -> None:
    citizen = events.citizen()
    first = events.submitted(citizen, START, END)
    await handlers.on_placement_confirmed(events.confirmed(first), _meta(first), uow, ctx)
    second = events.submitted(citizen, date(2026, 3, 16), date(2026, 4, 10))
    await handlers.on_application_submitted(second, _meta(second), uow, ctx)
    [checked] = [event for event in uow.events if isinstance(event, ActivationChecked)]
    assert checked.application_id == second.application_id
    assert [conflict.kind.value for conflict in checked.conflicts] == ["overlapping_period"]
    assert checked.rule_set_version is not None


async def test_an_application_checked_again_publishes_nothing(uow: InMemoryWork[InMemoryPlans], ctx: Context) -> None:
    application = events.submitted(events.citizen(), START, END)
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    await handlers.on_application_submitted(application, _meta(application), uow, ctx)
    assert [type(event) for event in uow.events] == [ActivationChecked]


async def test_a_confirmation_delivered_twice_records_the_entry_once(
    uow: InMemoryWork[InMemoryPlans], ctx: Context
) -> None:
    placement = events.confirmed(events.submitted(events.citizen(), START, END))
    await handlers.on_placement_confirmed(placement, _meta(placement), uow, ctx)
    await handlers.on_placement_confirmed(placement, _meta(placement), uow, ctx)
    assert [type(event) for event in uow.events] == [ActivationRecorded]
    assert len(await uow.store.plan_entries(placement.citizen_ref)) == 1


async def test_an_update_before_its_confirmation_is_parked_then_applied(
    uow: InMemoryWork[InMemoryPlans], ctx: Context
) -> None:
    placement = events.confirmed(events.submitted(events.citizen(), START, END))
    extension = events.extended(placement, END, date(2026, 4, 24))
    await handlers.on_placement_extended(extension, _meta(extension), uow, ctx)
    assert uow.events == []
    await handlers.on_placement_confirmed(placement, _meta(placement), uow, ctx)
    recorded = [event for event in uow.events if isinstance(event, ActivationRecorded)]
    assert [event.period.end for event in recorded] == [END, date(2026, 4, 24)]
    [entry] = await uow.store.plan_entries(placement.citizen_ref)
    assert entry.planned_end == date(2026, 4, 24)


async def test_an_early_end_ends_the_entry_early(uow: InMemoryWork[InMemoryPlans], ctx: Context) -> None:
    placement = events.confirmed(events.submitted(events.citizen(), START, END))
    await handlers.on_placement_confirmed(placement, _meta(placement), uow, ctx)
    end = events.ended(placement, date(2026, 3, 13), early=True)
    await handlers.on_placement_ended(end, _meta(end), uow, ctx)
    [ended] = [event for event in uow.events if isinstance(event, ActivationEnded)]
    assert (ended.last_day, ended.outcome) == (date(2026, 3, 13), ActivationOutcome.ENDED_EARLY)


async def test_a_withdrawn_pending_application_no_longer_collides(
    uow: InMemoryWork[InMemoryPlans], ctx: Context
) -> None:
    citizen = events.citizen()
    first = events.submitted(citizen, START, END)
    await handlers.on_application_submitted(first, _meta(first), uow, ctx)
    await handlers.on_application_withdrawn(events.withdrawn(first), _meta(first), uow, ctx)
    second = events.submitted(citizen, START, END)
    await handlers.on_application_submitted(second, _meta(second), uow, ctx)
    checked = [event for event in uow.events if isinstance(event, ActivationChecked)]
    assert [len(event.conflicts) for event in checked] == [0, 0]


async def test_an_erased_citizens_birth_date_is_forgotten(uow: InMemoryWork[InMemoryPlans], ctx: Context) -> None:
    application = events.submitted(events.citizen(), START, END)
    assessment = events.assessed(application, assessed_on=START, unemployed_weeks=30, born=date(1970, 5, 1))
    await handlers.on_citizen_assessed(assessment, _meta(assessment), uow, ctx)
    assert uow.store.birth_dates[application.citizen_ref] == date(1970, 5, 1)
    erased = CitizenErased(
        erasure_id=uuid4(), citizen_ref=application.citizen_ref, erased_at=datetime(2026, 3, 3, 9, tzinfo=UTC)
    )
    await handlers.on_citizen_erased(erased, _meta(erased), uow, ctx)
    assert uow.store.birth_dates[application.citizen_ref] is None
