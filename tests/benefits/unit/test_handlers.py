"""Each benefits handler's decision path on the in-memory unit of work: what it publishes and what the store then
holds, without PostgreSQL or Kafka (tests/benefits/integration runs the same paths on both)."""

import json
from datetime import date
from typing import Any

import pytest

from contracts.benefits import (
    BenefitAdjusted,
    CitizenAssessed,
    CitizenErased,
    PayeeKeyDestroyed,
    PayeeKeyIssued,
    PaymentInstructionIssuedV2,
)
from contracts.common import Scheme
from contracts.envelope import Event, Metadata, encode
from jobbro.pseudonym import citizen_ref
from jobbro.testing import InMemoryWork
from services.benefits import handlers
from services.benefits.app import create_context
from services.benefits.domain import (
    NotReissuable,
    PayableCitizen,
    PseudonymMismatch,
    SettlementMismatch,
    State,
    UnknownPlacement,
)
from services.benefits.handlers import Context
from services.benefits.registry import ImportFormat, ImportRejected, parse
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from tests.benefits import events
from tests.benefits.events import PSEUDONYM_KEY
from tests.benefits.factories import import_row
from tests.benefits.memory import InMemoryBenefits

Work = InMemoryWork[InMemoryBenefits]
START, END = date(2026, 11, 2), date(2027, 1, 29)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return create_context(BenefitsSettings(pseudonym_key=PSEUDONYM_KEY))


@pytest.fixture
def uow() -> Work:
    return InMemoryWork(InMemoryBenefits())


def _meta(event: Event) -> Metadata:
    return encode(event, source="test")[0]


def _published(uow: Work, kind: type[Event]) -> list[Any]:
    return [event for event in uow.events if isinstance(event, kind)]


async def _register(uow: Work, ctx: Context, **row: Any) -> tuple[str, str]:
    """A citizen in the registry, as an import writes them: their CPR number and reference."""
    imported = import_row(**row)
    await handlers.import_citizens(parse(_json([imported]), ImportFormat.JSON), "test", uow, ctx)
    return imported["cpr"], citizen_ref(imported["cpr"], PSEUDONYM_KEY)


def _json(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows).encode()


async def _handle(uow: Work, ctx: Context, handler: Any, event: Event) -> list[Event]:
    """Run a handler; what it published."""
    before = len(uow.events)
    await handler(event, _meta(event), uow, ctx)
    return uow.events[before:]


async def test_a_registered_citizen_is_assessed_with_what_the_registry_holds(uow: Work, ctx: Context) -> None:
    cpr, ref = await _register(uow, ctx, birth_date="1990-05-17")
    submitted = events.application_submitted(cpr, Scheme.INTERNSHIP, START, date(2026, 11, 27))

    [assessed] = await _handle(uow, ctx, handlers.on_application_submitted, submitted)

    assert isinstance(assessed, CitizenAssessed)
    assert (assessed.citizen_ref, assessed.application_id, assessed.eligible) == (ref, submitted.application_id, True)
    assert (assessed.birth_date, assessed.municipality_code, assessed.benefit) == (date(1990, 5, 17), "101", "dagpenge")


async def test_a_citizen_the_registry_does_not_hold_fails_citizen_unknown(uow: Work, ctx: Context) -> None:
    submitted = events.application_submitted("0101901234", Scheme.INTERNSHIP, START, date(2026, 11, 27))

    [assessed] = await _handle(uow, ctx, handlers.on_application_submitted, submitted)

    assert not assessed.eligible and assessed.target_group == "unregistered" and assessed.birth_date is None
    assert [r.rule for r in assessed.rule_results if not r.passed] == ["citizen_unknown"]


async def test_an_erased_citizen_is_assessed_as_unknown_and_their_birth_date_not_told(uow: Work, ctx: Context) -> None:
    cpr, _ref = await _register(uow, ctx)
    await handlers.erase_citizen(cpr, "GDPR art. 17", "operator", uow, ctx)
    submitted = events.application_submitted(cpr, Scheme.INTERNSHIP, START, date(2026, 11, 27))

    [assessed] = await _handle(uow, ctx, handlers.on_application_submitted, submitted)

    assert assessed.birth_date is None and not assessed.eligible


async def test_a_v1_event_whose_reference_is_not_ours_for_its_cpr_number_is_refused(uow: Work, ctx: Context) -> None:
    submitted = events.application_submitted_v1("0101901234", Scheme.INTERNSHIP, START, END)
    forged = submitted.model_copy(update={"citizen_ref": "c-someone-else"})

    with pytest.raises(PseudonymMismatch):
        await handlers.on_application_submitted_v1(forged, _meta(forged), uow, ctx)
    assert await _handle(uow, ctx, handlers.on_application_submitted_v1, submitted) != []


async def test_a_wage_subsidy_job_suspends_the_benefit_once_and_its_end_resumes_it(uow: Work, ctx: Context) -> None:
    _cpr, ref = await _register(uow, ctx)
    confirmed = events.placement_confirmed(ref, Scheme.WAGE_SUBSIDY_PRIVATE, START, END)

    [suspended] = await _handle(uow, ctx, handlers.on_placement_confirmed, confirmed)
    assert await _handle(uow, ctx, handlers.on_placement_confirmed, confirmed) == []  # delivered again
    ended = events.ended_early(confirmed, date(2026, 12, 18))
    [resumed] = await _handle(uow, ctx, handlers.on_placement_ended, ended)
    assert await _handle(uow, ctx, handlers.on_placement_ended, ended) == []

    assert isinstance(suspended, BenefitAdjusted) and isinstance(resumed, BenefitAdjusted)
    assert (suspended.change, suspended.period.start) == ("suspended", START)
    assert (resumed.change, resumed.period.start) == ("resumed", date(2026, 12, 19))
    placement = await uow.store.placement_for_update(confirmed.application_id)
    assert placement is not None and placement.ended


async def test_an_extension_adjusts_for_the_added_days_only_once(uow: Work, ctx: Context) -> None:
    _cpr, ref = await _register(uow, ctx)
    confirmed = events.placement_confirmed(ref, Scheme.WAGE_SUBSIDY_PUBLIC, START, END)
    await _handle(uow, ctx, handlers.on_placement_confirmed, confirmed)
    extension = events.extended(confirmed, date(2027, 3, 26))

    [adjusted] = await _handle(uow, ctx, handlers.on_placement_extended, extension)
    assert await _handle(uow, ctx, handlers.on_placement_extended, extension) == []

    assert adjusted.period.start == date(2027, 1, 30)
    placement = await uow.store.placement_for_update(confirmed.application_id)
    assert placement is not None and placement.period.end == date(2027, 3, 26)


async def test_new_weekly_hours_are_kept_and_change_no_benefit(uow: Work, ctx: Context) -> None:
    _cpr, ref = await _register(uow, ctx)
    confirmed = events.placement_confirmed(ref, Scheme.WAGE_SUBSIDY_PRIVATE, START, END)
    await _handle(uow, ctx, handlers.on_placement_confirmed, confirmed)

    changed = events.hours_changed(confirmed, date(2026, 12, 7), "30")
    assert await _handle(uow, ctx, handlers.on_placement_hours_changed, changed) == []

    placement = await uow.store.placement_for_update(confirmed.application_id)
    assert placement is not None and [s.hours_per_week for s in placement.hours] == [37, 30]


async def test_an_event_about_a_placement_never_confirmed_is_refused(uow: Work, ctx: Context) -> None:
    confirmed = events.placement_confirmed("c-unknown", Scheme.WAGE_SUBSIDY_PRIVATE, START, END)
    with pytest.raises(UnknownPlacement):
        await _handle(uow, ctx, handlers.on_placement_ended, events.ended_early(confirmed, date(2026, 12, 18)))


async def test_a_wage_report_pays_the_employer_once_with_its_calculation(uow: Work, ctx: Context) -> None:
    _cpr, ref = await _register(uow, ctx)
    confirmed = events.placement_confirmed(ref, Scheme.WAGE_SUBSIDY_PRIVATE, START, END)
    await _handle(uow, ctx, handlers.on_placement_confirmed, confirmed)
    report = events.wage_report(confirmed, date(2026, 11, 1), date(2026, 11, 30), "150")

    [issued] = await _handle(uow, ctx, handlers.on_wage_report_submitted, report)
    assert await _handle(uow, ctx, handlers.on_wage_report_submitted, report) == []

    assert isinstance(issued, PaymentInstructionIssuedV2)
    assert issued.payee_cvr == events.CVR and issued.calculation is not None
    assert issued.amount_ore == issued.calculation.payable_ore > 0
    assert await uow.store.calculation(issued.instruction_id) == issued.calculation.model_dump(mode="json")


async def _benefit_paid(uow: Work, ctx: Context) -> PaymentInstructionIssuedV2:
    """A citizen's November benefit issued by the payment run."""
    _cpr, ref = await _register(uow, ctx)
    payable = PayableCitizen(ref, "dagpenge", 1_975_000, 0, (), await uow.store.sealed_cpr(ref))
    await handlers.issue_benefit_payments([payable], Month(2026, 11), uow, ctx)
    [instruction] = _published(uow, PaymentInstructionIssuedV2)
    return instruction


async def test_a_citizen_paid_first_gets_a_payee_key_and_a_run_again_issues_nothing(uow: Work, ctx: Context) -> None:
    instruction = await _benefit_paid(uow, ctx)
    [key] = _published(uow, PayeeKeyIssued)
    assert key.citizen_ref == instruction.payee_ref and instruction.payee_cpr_sealed

    payable = PayableCitizen(
        instruction.payee_ref, "dagpenge", 1_975_000, 0, (), await uow.store.sealed_cpr(key.citizen_ref)
    )
    assert await handlers.issue_benefit_payments([payable], Month(2026, 11), uow, ctx) == []


async def test_a_settlement_settles_once_and_one_of_another_amount_is_refused(uow: Work, ctx: Context) -> None:
    instruction = await _benefit_paid(uow, ctx)
    key, amount = instruction.idempotency_key, instruction.amount_ore

    with pytest.raises(SettlementMismatch):
        await _handle(uow, ctx, handlers.on_payment_settled, events.settled(instruction.instruction_id, key, 1))
    await _handle(uow, ctx, handlers.on_payment_settled, events.settled(instruction.instruction_id, key, amount))
    await _handle(uow, ctx, handlers.on_payment_settled, events.settled(instruction.instruction_id, key, amount))

    entry = await uow.store.instruction_for_update(instruction.instruction_id)
    assert entry is not None and entry.state is State.SETTLED


async def test_a_retryable_failure_leaves_the_instruction_outstanding_and_a_final_one_lets_it_be_reissued(
    uow: Work, ctx: Context
) -> None:
    instruction = await _benefit_paid(uow, ctx)
    iid, key = instruction.instruction_id, instruction.idempotency_key
    with pytest.raises(NotReissuable):
        await handlers.reissue(iid, uow, ctx)

    await _handle(uow, ctx, handlers.on_payment_failed, events.failed(iid, key, retryable=True))
    assert (entry := await uow.store.instruction_for_update(iid)) is not None and entry.state is State.ISSUED
    await _handle(uow, ctx, handlers.on_payment_failed, events.failed(iid, key, retryable=False))
    replacement = await handlers.reissue(iid, uow, ctx)

    *_, reissued = _published(uow, PaymentInstructionIssuedV2)
    assert reissued.instruction_id == replacement.instruction_id != iid
    assert reissued.amount_ore == instruction.amount_ore and reissued.idempotency_key == f"{key}:reissue-1"
    assert (entry := await uow.store.instruction_for_update(iid)) is not None and entry.state is State.REISSUED


async def test_an_erasure_is_published_once_with_the_payee_keys_tombstone_and_blocks_a_new_import(
    uow: Work, ctx: Context
) -> None:
    instruction = await _benefit_paid(uow, ctx)
    ref = instruction.payee_ref
    assert ref is not None
    cpr = ctx.cipher.open_stored(await uow.store.sealed_cpr(ref), ref)

    first = await handlers.erase_citizen(cpr, "GDPR art. 17", "operator", uow, ctx)
    again = await handlers.erase_citizen(cpr, "again", "operator", uow, ctx)

    assert again.erasure_id == first.erasure_id
    assert [e.citizen_ref for e in _published(uow, CitizenErased)] == [ref]
    assert [e.citizen_ref for e in _published(uow, PayeeKeyDestroyed)] == [ref]
    with pytest.raises(ImportRejected):
        await handlers.import_citizens(parse(_json([import_row(cpr=cpr)]), ImportFormat.JSON), "test", uow, ctx)
