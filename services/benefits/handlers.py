"""One function per consumed event or command: load, decide in the domain, record and publish; the caller commits."""

import asyncio
from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from uuid import UUID, uuid4

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from contracts.benefits import (
    Adjustment,
    Benefit,
    BenefitAdjusted,
    CitizenAssessed,
    CitizenErased,
    PayeeKeyDestroyed,
    PayeeKeyIssued,
    PayeeKind,
    PaymentCalculation,
    PaymentInstructionIssuedV2,
    PaymentPurpose,
    TargetGroup,
)
from contracts.common import OpenPeriod as OpenPeriodOut
from contracts.common import Period as PeriodOut
from contracts.common import RuleResult as RuleResultOut
from contracts.common import Scheme
from contracts.envelope import Metadata
from contracts.payments import PaymentFailed, PaymentSettled
from contracts.subsidy import (
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    PlacementConfirmed,
    PlacementEnded,
    PlacementExtended,
    PlacementHoursChanged,
    WageReportSubmitted,
)
from jobbro import shredding
from jobbro.pseudonym import citizen_ref
from jobbro.shredding import KeyWrap
from jobbro.uow import UnitOfWork, Work
from rules import Rulebook, Sector
from services.benefits import store
from services.benefits.cpr import CprCipher
from services.benefits.domain import (
    NO_BENEFIT,
    UNREGISTERED,
    BenefitChange,
    Citizen,
    Instruction,
    LedgerEntry,
    NotReissuable,
    PayableCitizen,
    Placement,
    PseudonymMismatch,
    SettlementMismatch,
    State,
    StoredCpr,
    SubsidyPayment,
    UnknownInstruction,
    UnknownPlacement,
    assess,
    benefit_instructions,
    passed,
    placement_ended,
    placement_started,
    settlement_mismatch,
    subsidy_arithmetic,
    subsidy_instruction,
    subsidy_payment,
    year_to_date,
)
from services.benefits.payees import PayeeKeys
from services.benefits.registry import CitizenRow, ImportFormat, ImportRejected, Rejection, RowReader
from services.benefits.rules import HoursStep, Month, Period, SubsidyCalculation, SubsidyReport, monthly_subsidy
from services.benefits.store import Benefits

log = structlog.get_logger(__name__)

_SECTORS: Mapping[Scheme, Sector | None] = {
    Scheme.INTERNSHIP: None,
    Scheme.WAGE_SUBSIDY_PRIVATE: Sector.PRIVATE,
    Scheme.WAGE_SUBSIDY_PUBLIC: Sector.PUBLIC,
}


@dataclass(frozen=True)
class Context:
    """What the handlers need besides the unit of work, built once from the settings."""

    rulebook: Rulebook
    cipher: CprCipher
    pseudonym_key: SecretStr
    payees: PayeeKeys
    data_keys: KeyWrap


async def import_citizens(rows: list[CitizenRow], source: str, uow: Work[Benefits], ctx: Context) -> UUID:
    """Register validated rows in the caller's one transaction (all or nothing); a known citizen is replaced."""
    import_id = uuid4()
    citizens = [_sealed(row, ctx) for row in rows]
    erased = await uow.store.erased_among([citizen.citizen_ref for citizen, *_sealed in citizens])
    if erased:
        numbers = (n for n, (citizen, *_s) in enumerate(citizens, start=1) if citizen.citizen_ref in erased)
        raise ImportRejected([Rejection(number, "cpr", _ERASED) for number in numbers])
    await uow.store.upsert_citizens(import_id, citizens)
    await uow.store.record_import(import_id, source, len(citizens))
    log.info("citizens_imported", import_id=str(import_id), citizens=len(citizens), source=source)
    return import_id


@dataclass(frozen=True)
class Imported:
    import_id: UUID
    citizens: int


async def import_file(
    chunks: AsyncIterable[bytes],
    fmt: ImportFormat,
    source: str,
    uow: Work[Benefits],
    ctx: Context,
    *,
    max_json_bytes: int,
) -> Imported:
    """Read, validate and register a file as it streams in, in the caller's one transaction: all rows or none.

    Raises `ImportRejected` (the caller rolls back) with the first rejections, reading no further once it has as
    many as it reports. Parsing, validating and sealing run in a worker thread, chunk by chunk, so the event loop
    keeps answering (liveness) during a large import; memory holds a chunk, not the file.
    """
    import_id = uuid4()
    reader = RowReader(fmt, max_json_bytes=max_json_bytes)
    await uow.store.stage_import()
    citizens = 0
    async for chunk in chunks:
        citizens += await _register(uow, import_id, reader, await asyncio.to_thread(_read_sealed, reader, ctx, chunk))
        if reader.full:
            break
    else:
        citizens += await _register(uow, import_id, reader, await asyncio.to_thread(_read_sealed, reader, ctx, None))
    reader.raise_rejected()
    await uow.store.record_import(import_id, source, citizens)
    log.info("citizens_imported", import_id=str(import_id), citizens=citizens, source=source)
    return Imported(import_id, citizens)


def _read_sealed(
    reader: RowReader, ctx: Context, chunk: bytes | None
) -> list[tuple[int, Citizen, bytes, bytes, bytes]]:
    """The rows `chunk` completes (None: the file ended), each sealed: the CPU-bound part of an import."""
    return [(number, *_sealed(row, ctx)) for number, row in (reader.close() if chunk is None else reader.feed(chunk))]


def _sealed(row: CitizenRow, ctx: Context) -> tuple[Citizen, bytes, bytes, bytes]:
    """The registry's record of a row, under its citizen reference, a new data key of the citizen's (wrapped), the
    CPR number sealed under the ring and that key, and the citizen's circumstances sealed under that key."""
    ref = citizen_ref(row.cpr, ctx.pseudonym_key)
    citizen = row.citizen(ref)
    wrapped, sealed_cpr = ctx.cipher.seal_for_citizen(row.cpr, ref)
    return citizen, wrapped, sealed_cpr, store.sealed_profile(citizen, ctx.data_keys.unwrap(ref, wrapped))


_ERASED = "this citizen was erased; the registry takes them in no more"


async def _register(
    uow: Work[Benefits], import_id: UUID, reader: RowReader, rows: list[tuple[int, Citizen, bytes, bytes, bytes]]
) -> int:
    """Write rows read (none once a row is rejected: the import is rolled back anyway); how many were written."""
    if not rows:
        return 0
    numbers = [number for number, *_ in rows]
    refs = [citizen.citizen_ref for _n, citizen, *_ in rows]
    earlier = await uow.store.earlier_rows(refs, numbers)
    for number, first in earlier.items():
        reader.reject(Rejection(number, "cpr", f"the same citizen as row {first}"))
    erased = await uow.store.erased_among(refs)
    for number, ref in zip(numbers, refs, strict=True):
        if ref in erased:
            reader.reject(Rejection(number, "cpr", _ERASED))
    if reader.rejections:
        return 0
    await uow.store.upsert_citizens(
        import_id, [(citizen, key, cpr, profile) for _n, citizen, key, cpr, profile in rows]
    )
    return len(rows)


async def on_application_submitted_v1(
    event: ApplicationSubmitted, meta: Metadata, uow: Work[Benefits], ctx: Context
) -> None:
    """A v1 event (read until it leaves the topic): its CPR number only checks the reference, then as v2."""
    if citizen_ref(event.citizen_cpr, ctx.pseudonym_key) != event.citizen_ref:
        raise PseudonymMismatch(f"application {event.application_id}: citizen_ref is not ours for its CPR number")
    await on_application_submitted(event, meta, uow, ctx)


async def on_application_submitted(
    event: ApplicationSubmitted | ApplicationSubmittedV2, meta: Metadata, uow: Work[Benefits], ctx: Context
) -> None:
    """Assess the citizen the registry holds under the event's reference; one it does not hold fails the rule
    `citizen_unknown` (an outcome)."""
    citizen = await uow.store.citizen_for_update(event.citizen_ref)
    period = Period(event.period.start, event.period.end)
    assessment = assess(citizen, _SECTORS[event.scheme], period, ctx.rulebook)
    erased = await uow.store.erased_among([event.citizen_ref])
    birth_date = citizen.birth_date if citizen and not erased else None  # an erased citizen's is not told again
    uow.publish(
        CitizenAssessed(
            assessment_id=uuid4(),
            citizen_ref=event.citizen_ref,
            application_id=event.application_id,
            scheme=event.scheme,
            assessed_on=assessment.assessed_on,
            target_group=TargetGroup(citizen.target_group if citizen else UNREGISTERED),
            benefit=Benefit(citizen.benefit if citizen else NO_BENEFIT),
            unemployed_weeks=assessment.unemployed_weeks,
            unemployed_since=citizen.unemployed_since if citizen else None,
            rule_results=tuple(
                RuleResultOut(rule=r.rule, passed=passed(r), reason=r.reason, rule_set_version=r.rule_set_version)
                for r in assessment.results
            ),
            eligible=assessment.eligible,
            max_duration_weeks=assessment.max_duration_weeks,
            municipality_code=citizen.municipality if citizen else None,
            has_qualifying_education=citizen.qualifying_education if citizen else None,
            birth_date=birth_date,
        )
    )
    log.info("citizen_assessed", application_id=str(event.application_id), eligible=assessment.eligible)


async def on_placement_confirmed(event: PlacementConfirmed, meta: Metadata, uow: Work[Benefits], ctx: Context) -> None:
    """Keep the placement; an internship keeps the benefit, a wage-subsidy job stops it or cuts it to a top-up."""
    placement = Placement(
        application_id=event.application_id,
        citizen_ref=event.citizen_ref,
        sector=_SECTORS[event.scheme],
        employer_cvr=event.employer_cvr,
        period=Period(event.period.start, event.period.end),
        hours=tuple(HoursStep(step.from_date, step.hours_per_week) for step in event.weekly_hours),
    )
    if not await uow.store.add_placement(placement):
        log.info("placement_already_known", application_id=str(event.application_id))
        return
    wage_subsidy = placement.sector is not None
    await _adjust(uow, placement, lambda benefit: placement_started(benefit, wage_subsidy, placement.period))


async def on_placement_extended(event: PlacementExtended, meta: Metadata, uow: Work[Benefits], ctx: Context) -> None:
    """The days an extension adds change the benefit as the placement's first days did."""
    placement = await _placement(uow, event.application_id)
    previous_end = placement.period.end
    assert previous_end is not None  # a confirmed placement always has an end
    if event.new_end <= previous_end:
        log.info("extension_already_applied", application_id=str(event.application_id))
        return
    await uow.store.save_placement(placement.extended_to(event.new_end))
    added = Period(previous_end + timedelta(days=1), event.new_end)
    await _adjust(uow, placement, lambda benefit: placement_started(benefit, placement.sector is not None, added))


async def on_placement_hours_changed(
    event: PlacementHoursChanged, meta: Metadata, uow: Work[Benefits], ctx: Context
) -> None:
    """New weekly hours limit the subsidised hours; the benefit itself does not depend on them."""
    placement = await _placement(uow, event.application_id)
    steps = (HoursStep(step.from_date, step.hours_per_week) for step in event.weekly_hours)
    await uow.store.save_placement(placement.with_hours(event.effective_from, steps))


async def on_placement_ended(event: PlacementEnded, meta: Metadata, uow: Work[Benefits], ctx: Context) -> None:
    """A benefit stopped or cut for a wage-subsidy job is paid in full again from the next day."""
    placement = await _placement(uow, event.application_id)
    if placement.ended:
        log.info("end_already_applied", application_id=str(event.application_id))
        return
    await uow.store.save_placement(placement.ended_on(event.last_day))
    wage_subsidy = placement.sector is not None
    await _adjust(uow, placement, lambda benefit: placement_ended(benefit, wage_subsidy, event.last_day))


async def on_wage_report_submitted(
    event: WageReportSubmitted, meta: Metadata, uow: Work[Benefits], ctx: Context
) -> None:
    """Pay the employer the month's subsidy, or for a correction only the difference to what the month had."""
    placement = await _placement(uow, event.application_id)
    if await uow.store.report_known(event.report_id):
        log.info("wage_report_already_handled", application_id=str(event.application_id))
        return
    month = Month.of(event.month.start)
    reported = await uow.store.reported_months(placement.application_id, month.year)
    report = SubsidyReport(month, event.paid_hours, event.wage_costs_ore, event.sickness_refunds_ore)
    calculation = monthly_subsidy(placement.wage_subsidy, report, year_to_date(reported, month), ctx.rulebook)
    previous = next((m for m in reported if m.month == month), None)
    payment = subsidy_payment(previous, calculation, placement.recoverable_ore)
    await uow.store.add_report(
        store.WageReport(
            report_id=event.report_id,
            application_id=placement.application_id,
            month=month,
            revision=payment.revision,
            paid_hours=event.paid_hours,
            wage_costs_ore=event.wage_costs_ore,
            refunds_ore=event.sickness_refunds_ore,
            payable_ore=payment.payable_ore,
            calculation={k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(calculation).items()},
        )
    )
    await uow.store.save_placement(replace(placement, recoverable_ore=payment.recoverable_ore))
    if payment.pay_ore > 0:
        instruction = subsidy_instruction(placement, month, Period(event.month.start, event.month.end), payment)
        explained = _calculation_out(event.report_id, calculation, payment)
        await _issue(uow, [instruction], ctx, {}, {instruction.instruction_id: explained})
    log.info(
        "wage_report_handled",
        application_id=str(event.application_id),
        month=str(month),
        revision=payment.revision,
        payable_ore=payment.payable_ore,
        paid_ore=payment.pay_ore,
        recoverable_ore=payment.recoverable_ore,
    )


async def issue_benefit_payments(
    batch: list[PayableCitizen], month: Month, uow: Work[Benefits], ctx: Context
) -> list[Instruction]:
    """A payment-run batch: each citizen's month in the ledger and on its way; keys issued before are skipped."""
    instructions = [instruction for citizen in batch for instruction in benefit_instructions(citizen, month)]
    return await _issue(uow, instructions, ctx, {citizen.citizen_ref: citizen.sealed_cpr for citizen in batch})


async def on_payment_settled(event: PaymentSettled, meta: Metadata, uow: Work[Benefits], ctx: Context) -> None:
    """The back-office paid: the instruction is done (a settlement heard before changes nothing).

    A settlement of another amount or under another key than the instruction's is refused (dead-lettered): the
    instruction stays outstanding until an operator has looked, instead of being marked paid at a forged amount.
    """
    entry = await _ledger_entry(uow, event.instruction_id)
    bound = log.bind(instruction_id=str(event.instruction_id))
    if mismatch := settlement_mismatch(entry.instruction, event.amount_ore, event.idempotency_key):
        bound.error("settlement_refused", reason=mismatch, state=entry.state)
        raise SettlementMismatch(f"settlement of instruction {event.instruction_id} refused: {mismatch}")
    if entry.state is State.SETTLED:
        bound.info("settlement_already_recorded")
        return
    if entry.state is State.REISSUED:
        bound.error("settled_after_reissue")  # its replacement may be paid too: someone must look
    await uow.store.record_settlement(event.instruction_id, event.amount_ore, event.settled_on, event.bank_reference)


async def on_payment_failed(event: PaymentFailed, meta: Metadata, uow: Work[Benefits], ctx: Context) -> None:
    """A failure the back-office retries leaves the instruction outstanding; any other makes it failed."""
    entry = await _ledger_entry(uow, event.instruction_id)
    if entry.state is not State.ISSUED:
        log.warning("failure_after_answer_ignored", instruction_id=str(event.instruction_id), state=entry.state)
        return
    state = State.ISSUED if event.retryable else State.FAILED
    await uow.store.record_failure(event.instruction_id, state, event.code, event.reason)
    log.info("payment_failed", instruction_id=str(event.instruction_id), code=event.code, retryable=event.retryable)


async def reissue(instruction_id: UUID, uow: Work[Benefits], ctx: Context) -> Instruction:
    """Issue a failed instruction again under a new key, once the reason it failed has been dealt with."""
    entry = await _ledger_entry(uow, instruction_id)
    if entry.state is not State.FAILED:
        raise NotReissuable(f"instruction {instruction_id} is {entry.state}, not failed")
    replacement = entry.instruction.reissued()
    await uow.store.add_replacement(entry.instruction, replacement)
    ref = replacement.citizen_ref
    cprs = {ref: ctx.cipher.open_stored(await uow.store.sealed_cpr(ref), ref)} if ref else {}
    sealed = await _sealed_for_backoffice(uow, ctx, cprs)
    found = await uow.store.calculation(instruction_id)
    calculation = PaymentCalculation.model_validate(found) if found is not None else None
    uow.publish(_instruction_event(replacement, sealed.get(ref) if ref else None, calculation))
    log.info("instruction_reissued", instruction_id=str(instruction_id), replacement=str(replacement.instruction_id))
    return replacement


@dataclass(frozen=True)
class Erased:
    """The erasure done (the first, if the citizen was erased before)."""

    erasure_id: UUID
    citizen_ref: str
    erased_at: datetime


async def erase_citizen(cpr: str, reason: str, operator: str, uow: Work[Benefits], ctx: Context) -> Erased:
    """Destroy the citizen's data key: the registry's CPR number for them can no longer be opened, and no payment
    run pays them; their placements and ledger stay under `citizen_ref`. The first erasure is published, so every
    service destroys its own key for the citizen, and their payee key is destroyed and tombstoned, so the CPR number
    on their payment instructions opens no more; erasing again tells the first erasure."""
    ref = citizen_ref(cpr, ctx.pseudonym_key)
    await uow.store.benefit_for_update(ref)  # the citizen's events leave in order
    erasure = shredding.Erasure(uuid4(), ref, reason, operator)
    erasure_id, erased_at = await uow.store.erase_citizen(erasure)
    if erasure_id == erasure.erasure_id:
        await uow.store.shred_ring_sealed_cpr(ref)
        await seal_clear_profiles(uow, ctx, 1, citizen_ref=ref)
        uow.publish(CitizenErased(erasure_id=erasure_id, citizen_ref=ref, erased_at=erased_at))
        if await uow.store.destroy_payee_key(ref):
            uow.publish(PayeeKeyDestroyed(citizen_ref=ref))
    log.info("citizen_erased", erasure_id=str(erasure_id), citizen_ref=ref)
    return Erased(erasure_id, ref, erased_at)


async def seal_clear_profiles(
    uow: Work[Benefits], ctx: Context, batch_size: int, *, citizen_ref: str | None = None
) -> int:
    """Seal the circumstances of up to `batch_size` citizens imported before they were sealed (migration 0006's data
    step) under each one's data key, made for a citizen imported before data keys, whose CPR number is then sealed
    under it too; an erased citizen's under a key nobody keeps. How many were sealed: 0 when none is left."""
    rows = await uow.store.clear_profiles_for_update(batch_size, citizen_ref)
    for row in rows:
        ref, new_key, sealed_cpr = row.citizen.citizen_ref, None, None
        if row.erased:
            data_key = AESGCM.generate_key(bit_length=256)  # kept nowhere: as `shredding.seal_forgotten`
        elif row.data_key is None:
            data_key, new_key = ctx.data_keys.new_key(ref)
        else:
            data_key = ctx.data_keys.unwrap(ref, row.data_key)
        if row.ring_sealed_cpr is not None and not row.erased:
            sealed_cpr = shredding.seal_with(data_key, ref, row.ring_sealed_cpr)
        await uow.store.seal_profile(ref, store.sealed_profile(row.citizen, data_key), new_key, sealed_cpr)
    return len(rows)


SEAL_BATCH = 500
"""Citizens one transaction of `seal_registry` seals at most: short row locks beside the service's own work."""


async def seal_registry(
    unit_of_work: Callable[[], UnitOfWork],
    ctx: Context,
    batch_size: int = SEAL_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Migration 0006's data step: seal every citizen's circumstances still in clear, a batch per transaction (rows
    another replica is sealing are skipped); how many were sealed. `on_batch` is told the running total."""
    total = 0
    while True:
        async with unit_of_work() as uow:
            sealed = await seal_clear_profiles(uow, ctx, batch_size)
            await uow.commit()
        if not sealed:
            return total
        total += sealed
        if on_batch:
            on_batch(total)


async def _placement(uow: Work[Benefits], application_id: UUID) -> Placement:
    placement = await uow.store.placement_for_update(application_id)
    if placement is None:
        raise UnknownPlacement(f"placement {application_id} was never confirmed")
    return placement


async def _ledger_entry(uow: Work[Benefits], instruction_id: UUID) -> LedgerEntry:
    entry = await uow.store.instruction_for_update(instruction_id)
    if entry is None:
        raise UnknownInstruction(f"no payment instruction {instruction_id} was issued")
    return entry


async def _adjust(uow: Work[Benefits], placement: Placement, decide: Callable[[str], BenefitChange | None]) -> None:
    """Publish what a placement's change does to the citizen's benefit, under the citizen's row lock."""
    benefit = await uow.store.benefit_for_update(placement.citizen_ref)
    if benefit is None:
        log.warning("benefit_not_adjusted_citizen_unknown", application_id=str(placement.application_id))
        return
    change = decide(benefit)
    if change is None:
        return
    uow.publish(
        BenefitAdjusted(
            adjustment_id=uuid4(),
            citizen_ref=placement.citizen_ref,
            application_id=placement.application_id,
            benefit=Benefit(change.benefit),
            change=Adjustment(change.change),
            period=OpenPeriodOut(start=change.period.start, end=change.period.end),
            reason=change.reason,
        )
    )


async def _issue(
    uow: Work[Benefits],
    instructions: list[Instruction],
    ctx: Context,
    sealed: Mapping[str, StoredCpr],
    calculations: Mapping[UUID, PaymentCalculation] = MappingProxyType({}),
) -> list[Instruction]:
    """Enter instructions in the ledger and publish those new to it; `sealed` holds the citizen payees' CPR and
    `calculations` how wage-subsidy instructions were worked out (kept beside them and sent on their events)."""
    fresh = await uow.store.add_instructions(instructions)
    refs = {instruction.citizen_ref for instruction in fresh if instruction.citizen_ref}
    payees = await _sealed_for_backoffice(uow, ctx, {ref: ctx.cipher.open_stored(sealed[ref], ref) for ref in refs})
    for instruction in fresh:
        ref = instruction.citizen_ref
        calculation = calculations.get(instruction.instruction_id)
        if calculation is not None:
            await uow.store.add_calculation(
                instruction.instruction_id, calculation.report_id, calculation.model_dump(mode="json")
            )
        uow.publish(_instruction_event(instruction, payees[ref] if ref else None, calculation))
    return fresh


async def _sealed_for_backoffice(uow: Work[Benefits], ctx: Context, cprs: Mapping[str, str]) -> dict[str, str]:
    """Citizen → their CPR number sealed under their payee key. A citizen paid for the first time gets a key, and the
    back-office gets it through the outbox in this transaction (`PayeeKeyIssued`); an erased citizen gets none."""
    stored = await uow.store.payee_keys(list(cprs))
    if missing := [ref for ref in cprs if ref not in stored]:
        made = {ref: ctx.payees.new(ref) for ref in missing}
        added = await uow.store.add_payee_keys({ref: new.stored for ref, new in made.items()})
        for ref in sorted(added):
            uow.publish(PayeeKeyIssued(citizen_ref=ref, wrapped_key=made[ref].for_backoffice))
        stored |= {ref: made[ref].stored for ref in added}
        if others := [ref for ref in missing if ref not in added]:  # another transaction's key, or erased
            stored |= await uow.store.payee_keys(others)
    if erased := [ref for ref in cprs if ref not in stored]:
        raise shredding.KeyDestroyed(f"{len(erased)} payee(s) erased: no payee key is made for them")
    return {ref: ctx.payees.sealed_cpr(ctx.payees.opened(ref, stored[ref]), ref, cpr) for ref, cpr in cprs.items()}


def _calculation_out(report_id: UUID, calculation: SubsidyCalculation, payment: SubsidyPayment) -> PaymentCalculation:
    """A wage-subsidy payment's calculation as its event and the ledger's API show it."""
    return PaymentCalculation(
        report_id=report_id,
        revision=payment.revision,
        rate_category=calculation.rate_category,
        hourly_rate_ore=int((calculation.hourly_rate * 100).to_integral_exact()),
        paid_hours=calculation.paid_hours,
        hours_limit=calculation.hours_limit,
        subsidised_hours=calculation.subsidised_hours,
        gross_ore=calculation.gross_ore,
        refunds_ore=calculation.refunds_ore,
        state_aid_reduction_ore=calculation.state_aid_reduction_ore,
        payable_ore=calculation.payable_ore,
        paid_before_ore=payment.paid_before_ore,
        offset_ore=payment.offset_ore,
        rule_set_versions=calculation.rule_set_versions,
        arithmetic=subsidy_arithmetic(calculation, payment),
    )


def _instruction_event(
    instruction: Instruction, payee_cpr_sealed: str | None, calculation: PaymentCalculation | None = None
) -> PaymentInstructionIssuedV2:
    """The instruction as the back-office reads it: a citizen payee by reference and CPR number sealed under their
    payee key, an employer by CVR number; a wage subsidy with its calculation."""
    assert instruction.period.end is not None  # instructions cover closed periods
    citizen = payee_cpr_sealed is not None
    return PaymentInstructionIssuedV2(
        instruction_id=instruction.instruction_id,
        idempotency_key=instruction.idempotency_key,
        payee_kind=PayeeKind.CITIZEN if citizen else PayeeKind.EMPLOYER,
        payee_ref=instruction.citizen_ref if citizen else None,
        payee_cpr_sealed=payee_cpr_sealed,
        payee_cvr=instruction.payee_cvr,
        amount_ore=instruction.amount_ore,
        period=_period_out(instruction.period.start, instruction.period.end),
        purpose=PaymentPurpose(instruction.purpose),
        application_id=instruction.application_id,
        due_on=instruction.due_on,
        calculation=calculation,
    )


@lru_cache(maxsize=64)
def _period_out(start: date, end: date) -> PeriodOut:
    """A payment run's instructions all cover the month: they share one (immutable) period, not one each."""
    return PeriodOut(start=start, end=end)
