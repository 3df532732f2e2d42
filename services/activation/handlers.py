"""One function per consumed event: load the citizen's plan, decide in the domain, record it; the kit commits."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog

from contracts.activation import ActivationChecked, ActivationEnded, ActivationOutcome, ActivationRecorded
from contracts.activation import Conflict as ConflictOut
from contracts.activation import ConflictKind as ConflictKindOut
from contracts.benefits import CitizenAssessed, CitizenErased
from contracts.catalog import EVENT_TYPES
from contracts.common import HoursStep as HoursStepOut
from contracts.common import Period as PeriodOut
from contracts.common import Scheme
from contracts.envelope import Metadata
from contracts.subsidy import (
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    ApplicationWithdrawn,
    EndKind,
    PlacementConfirmed,
    PlacementEnded,
    PlacementExtended,
    PlacementHoursChanged,
    RepresentativeDeclined,
)
from jobbro.uow import Work
from rules import PlanCheckRule, Rulebook, RuleNotInForce, birth_date_from_cpr
from services.activation.domain import (
    Application,
    ApplicationState,
    Assessment,
    Conflict,
    EntryClosed,
    HoursStep,
    PlanEntry,
    activation_id_for,
    conflicts,
)
from services.activation.rules import Period
from services.activation.store import Plans

log = structlog.get_logger(__name__)

PlacementUpdate = PlacementExtended | PlacementHoursChanged | PlacementEnded | ApplicationWithdrawn


@dataclass(frozen=True)
class Context:
    """What the handlers and routes need besides the unit of work, built once from the settings."""

    rulebook: Rulebook


async def on_application_submitted_v1(
    event: ApplicationSubmitted, meta: Metadata, uow: Work[Plans], ctx: Context
) -> None:
    """A v1 event (read until it leaves the topic): keep the birth date its CPR number encodes, then as v2."""
    await uow.store.lock_plan(event.citizen_ref, birth_date_from_cpr(event.citizen_cpr))
    await on_application_submitted(event, meta, uow, ctx)


async def on_application_submitted(
    event: ApplicationSubmitted | ApplicationSubmittedV2, meta: Metadata, uow: Work[Plans], ctx: Context
) -> None:
    """Tell the deciding caseworker what the application collides with in the citizen's plan and applications,
    under the plan-check rules in force on its start date."""
    await uow.store.lock_plan(event.citizen_ref)
    period = Period(event.period.start, event.period.end)
    application = Application(event.application_id, event.scheme.value, period, event.employer_cvr)
    if not await uow.store.add_application(event.citizen_ref, application):
        log.info("application_already_checked", application_id=str(event.application_id))
        return
    entries = await uow.store.plan_entries(event.citizen_ref)
    pending = await uow.store.pending_applications(event.citizen_ref)
    rule = _plan_checks(ctx.rulebook, period.start)
    found = conflicts(application, entries, pending, rule)
    uow.publish(
        ActivationChecked(
            citizen_ref=event.citizen_ref,
            application_id=event.application_id,
            conflicts=tuple(_conflict_out(conflict) for conflict in found),
            rule_set_version=rule.rule_set_version if rule else None,
        )
    )


def _plan_checks(rulebook: Rulebook, starts_on: date) -> PlanCheckRule | None:
    try:
        return rulebook.in_force(PlanCheckRule, starts_on)
    except RuleNotInForce:
        return None


async def on_placement_confirmed(event: PlacementConfirmed, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Write the placement into the plan once, however often it is confirmed, then apply updates that came first."""
    await uow.store.lock_plan(event.citizen_ref)
    entry = PlanEntry(
        activation_id=activation_id_for(event.application_id),
        application_id=event.application_id,
        citizen_ref=event.citizen_ref,
        scheme=event.scheme.value,
        start=event.period.start,
        planned_end=event.period.end,
        weekly_hours=_steps(event.weekly_hours),
        employment_goal=event.employment_goal,
        employer_cvr=event.employer_cvr,
        production_unit=event.production_unit,
        employer_name=event.employer_name,
    )
    if not await uow.store.add_entry(entry):
        log.info("placement_already_recorded", application_id=str(event.application_id))
        return
    await uow.store.close_application(event.application_id, ApplicationState.CONFIRMED)
    uow.publish(_recorded(entry))
    for event_type, payload in await uow.store.take_parked(event.application_id):
        await _apply_parked(EVENT_TYPES[event_type].model_validate(payload), meta, uow, ctx)


async def on_placement_extended(event: PlacementExtended, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Move the entry's end and restate the entry, so case systems and the data hub see the new period."""
    entry = await _entry_or_park(event, uow)
    if entry is not None and entry.extend(event.new_end):
        await _restate(entry, uow)


async def on_placement_hours_changed(
    event: PlacementHoursChanged, meta: Metadata, uow: Work[Plans], ctx: Context
) -> None:
    """Replace the schedule from the change on and restate the entry."""
    entry = await _entry_or_park(event, uow)
    if entry is not None and entry.change_hours(event.effective_from, _steps(event.weekly_hours)):
        await _restate(entry, uow)


async def on_placement_ended(event: PlacementEnded, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Register the end, planned or early, and announce it."""
    entry = await _entry_or_park(event, uow)
    if entry is not None and entry.end(event.last_day, early=event.kind is EndKind.EARLY):
        await _end(entry, uow)


async def on_application_withdrawn(event: ApplicationWithdrawn, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Cancel the entry of a confirmed placement; an application still being decided just stops counting."""
    await uow.store.lock_plan(event.citizen_ref)
    entry = await uow.store.entry_for_update(event.application_id)
    if entry is not None:
        if entry.cancel():
            await _end(entry, uow)
    elif not await uow.store.close_application(event.application_id, ApplicationState.WITHDRAWN):
        await _park(event, uow)


async def on_application_turned_down(
    event: ApplicationRejected | RepresentativeDeclined, meta: Metadata, uow: Work[Plans], ctx: Context
) -> None:
    """A rejected or declined application no longer collides with the citizen's later applications."""
    await uow.store.close_application(event.application_id, ApplicationState.REJECTED)


async def on_citizen_assessed(event: CitizenAssessed, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Keep the facts deadlines and statistics need (the birth date comes from the registry through benefits);
    deadlines are computed when read, from the rule data."""
    await uow.store.lock_plan(event.citizen_ref, event.birth_date)
    assessment = Assessment(
        assessment_id=event.assessment_id,
        citizen_ref=event.citizen_ref,
        application_id=event.application_id,
        assessed_on=event.assessed_on,
        target_group=event.target_group.value,
        unemployed_weeks=event.unemployed_weeks,
        unemployed_since=event.unemployed_since,
        has_qualifying_education=event.has_qualifying_education,
        municipality_code=event.municipality_code,
    )
    await uow.store.add_assessment(assessment)


async def on_citizen_erased(event: CitizenErased, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Benefits erased the citizen: forget their birth date; the plan and the assessments stay, by reference."""
    await uow.store.forget_birth_date(event.citizen_ref)


async def _entry_or_park(event: PlacementUpdate, uow: Work[Plans]) -> PlanEntry | None:
    """The placement's entry, locked; None (the update parked) while its confirmation has not arrived."""
    await uow.store.lock_plan(event.citizen_ref)
    entry = await uow.store.entry_for_update(event.application_id)
    if entry is None:
        await _park(event, uow)
    return entry


async def _park(event: PlacementUpdate, uow: Work[Plans]) -> None:
    await uow.store.park(event.application_id, event.type, event.model_dump(mode="json"))
    log.warning("update_parked_until_confirmed", application_id=str(event.application_id), event_type=event.type)


async def _apply_parked(update: Any, meta: Metadata, uow: Work[Plans], ctx: Context) -> None:
    """Apply a parked update; one that contradicts the entry is dropped, so the confirmation itself still lands."""
    try:
        await _PARKABLE[type(update)](update, meta, uow, ctx)
    except EntryClosed as exc:
        log.warning("parked_update_dropped", application_id=str(update.application_id), reason=str(exc))


_PARKABLE: dict[type, Callable[[Any, Metadata, Work[Plans], Context], Awaitable[None]]] = {
    PlacementExtended: on_placement_extended,
    PlacementHoursChanged: on_placement_hours_changed,
    PlacementEnded: on_placement_ended,
    ApplicationWithdrawn: on_application_withdrawn,
}


async def _restate(entry: PlanEntry, uow: Work[Plans]) -> None:
    """ActivationRecorded is the entry's current state: a later one for the same activation_id replaces it."""
    await uow.store.save_entry(entry)
    uow.publish(_recorded(entry))


async def _end(entry: PlanEntry, uow: Work[Plans]) -> None:
    await uow.store.save_entry(entry)
    assert entry.last_day is not None and entry.outcome is not None
    uow.publish(
        ActivationEnded(
            citizen_ref=entry.citizen_ref,
            activation_id=entry.activation_id,
            application_id=entry.application_id,
            last_day=entry.last_day,
            outcome=ActivationOutcome(entry.outcome.value),
        )
    )


def _recorded(entry: PlanEntry) -> ActivationRecorded:
    return ActivationRecorded(
        citizen_ref=entry.citizen_ref,
        activation_id=entry.activation_id,
        application_id=entry.application_id,
        scheme=Scheme(entry.scheme),
        period=PeriodOut(start=entry.start, end=entry.planned_end),
        weekly_hours=tuple(
            HoursStepOut(from_date=step.from_date, hours_per_week=step.hours_per_week) for step in entry.weekly_hours
        ),
        employment_goal=entry.employment_goal,
        employer_cvr=entry.employer_cvr,
        production_unit=entry.production_unit,
        employer_name=entry.employer_name,
    )


def _conflict_out(conflict: Conflict) -> ConflictOut:
    assert conflict.period.end is not None
    return ConflictOut(
        kind=ConflictKindOut(conflict.kind.value),
        activation_id=conflict.activation_id,
        application_id=conflict.application_id,
        scheme=Scheme(conflict.scheme),
        period=PeriodOut(start=conflict.period.start, end=conflict.period.end),
        description=conflict.description,
    )


def _steps(weekly_hours: tuple[HoursStepOut, ...]) -> tuple[HoursStep, ...]:
    return tuple(HoursStep(step.from_date, step.hours_per_week) for step in weekly_hours)
