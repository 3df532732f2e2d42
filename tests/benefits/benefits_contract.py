"""One test suite for the `Benefits` port, run against PostgreSQL (`PgBenefits`) and the in-memory fake the handlers'
unit tests use: what the fake answers, the database answers too. A subclass gives the `benefits` fixture, and
`in_clear`, which writes a citizen as imported before migration 0006 (what no port method writes any more)."""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import uuid4

from jobbro import shredding
from rules import Sector
from services.benefits import store
from services.benefits.domain import Citizen, Instruction, Placement, Purpose, ReportedMonth, State, StoredCpr
from services.benefits.rules import HoursStep, Month, Period
from services.benefits.store import Benefits, WageReport
from tests.benefits.events import DATA_KEYS
from tests.benefits.factories import citizen

InClear = Callable[[Citizen, StoredCpr, bytes | None], Awaitable[None]]
"""Write a citizen with their circumstances in clear, their CPR number as given, and their wrapped data key."""

NOVEMBER = Month(2026, 11)


def _imported(registered: Citizen) -> tuple[Citizen, bytes, bytes, bytes]:
    """A citizen as an import hands them to the store: a new wrapped data key, the CPR number and circumstances
    sealed under it."""
    data_key, wrapped = DATA_KEYS.new_key(registered.citizen_ref)
    sealed_cpr = shredding.seal_with(data_key, registered.citizen_ref, b"0101901234")
    return registered, wrapped, sealed_cpr, store.sealed_profile(registered, data_key)


def _placement(**changes: object) -> Placement:
    start = date(2026, 11, 2)
    base = Placement(
        application_id=uuid4(),
        citizen_ref=citizen().citizen_ref,
        sector=None,
        employer_cvr="12345678",
        period=Period(start, date(2027, 1, 31)),
        hours=(HoursStep(start, Decimal(37)),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _instruction(amount_ore: int = 1_975_000, **changes: object) -> Instruction:
    ref = citizen().citizen_ref
    base = Instruction(
        idempotency_key=f"benefit:{ref}:{NOVEMBER}",
        purpose=Purpose.BENEFIT,
        month=NOVEMBER,
        period=Period(NOVEMBER.first_day, NOVEMBER.last_day),
        amount_ore=amount_ore,
        due_on=date(2026, 11, 28),
        citizen_ref=ref,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class BenefitsContract:
    async def test_an_imported_citizen_reads_back_and_a_new_import_replaces_them(self, benefits: Benefits) -> None:
        first = citizen()
        await benefits.upsert_citizens(uuid4(), [_imported(first)])
        assert await benefits.citizen_for_update(first.citizen_ref) == first
        assert await benefits.benefit_for_update(first.citizen_ref) == "dagpenge"

        again = replace(first, benefit="kontanthjaelp", single_parent=True)
        await benefits.upsert_citizens(uuid4(), [_imported(again)])
        assert await benefits.citizen_for_update(first.citizen_ref) == again
        assert await benefits.citizen_for_update("c-nobody") is None
        assert await benefits.benefit_for_update("c-nobody") is None

    async def test_an_erased_citizen_opens_no_more_and_erasing_again_tells_the_first_erasure(
        self, benefits: Benefits
    ) -> None:
        erased, kept = citizen(), citizen()
        await benefits.upsert_citizens(uuid4(), [_imported(erased), _imported(kept)])
        assert (await benefits.sealed_cpr(erased.citizen_ref)).data_key is not None

        first = await benefits.erase_citizen(shredding.Erasure(uuid4(), erased.citizen_ref, "GDPR art. 17", "operator"))
        again = await benefits.erase_citizen(shredding.Erasure(uuid4(), erased.citizen_ref, "again", "operator"))

        assert again == first
        assert await benefits.erased_among([erased.citizen_ref, kept.citizen_ref]) == {erased.citizen_ref}
        assert await benefits.citizen_for_update(erased.citizen_ref) is None
        assert await benefits.benefit_for_update(erased.citizen_ref) == "dagpenge"  # what the ledger pays by stays
        stored = await benefits.sealed_cpr(erased.citizen_ref)
        assert stored.shreddable and stored.data_key is None
        assert await benefits.citizen_for_update(kept.citizen_ref) == kept

    async def test_an_imports_rows_naming_a_citizen_again_point_at_the_first_row(self, benefits: Benefits) -> None:
        await benefits.stage_import()
        assert await benefits.earlier_rows(["c-a", "c-b"], [1, 2]) == {}
        assert await benefits.earlier_rows(["c-c", "c-a", "c-b"], [3, 4, 5]) == {4: 1, 5: 2}
        await benefits.record_import(uuid4(), "test", 3)

    async def test_a_payee_key_is_added_once_never_for_an_erased_citizen_and_can_be_destroyed(
        self, benefits: Benefits
    ) -> None:
        paid, other, erased = (citizen().citizen_ref for _ in range(3))
        await benefits.erase_citizen(shredding.Erasure(uuid4(), erased, "GDPR art. 17", "operator"))

        assert await benefits.add_payee_keys({paid: b"key-1", erased: b"key-2"}) == {paid}
        assert await benefits.add_payee_keys({paid: b"key-3", other: b"key-4"}) == {other}
        assert await benefits.payee_keys([paid, other, erased]) == {paid: b"key-1", other: b"key-4"}
        assert await benefits.destroy_payee_key(paid) is True
        assert await benefits.destroy_payee_key(paid) is False
        assert await benefits.payee_keys([paid]) == {}

    async def test_a_placement_is_kept_once_and_saves_its_end_hours_and_what_is_owed(self, benefits: Benefits) -> None:
        placement = _placement(sector=Sector.PRIVATE)
        assert await benefits.add_placement(placement) is True
        assert await benefits.add_placement(replace(placement, employer_cvr="87654321")) is False
        assert await benefits.placement_for_update(placement.application_id) == placement

        later = placement.extended_to(date(2027, 3, 31)).with_hours(
            date(2027, 1, 4), [HoursStep(date(2027, 1, 4), Decimal("29.5"))]
        )
        changed = replace(later.ended_on(date(2027, 2, 26)), recoverable_ore=12_300)
        await benefits.save_placement(changed)
        assert await benefits.placement_for_update(placement.application_id) == changed
        assert await benefits.placement_for_update(uuid4()) is None

    async def test_a_months_latest_revision_counts_within_the_placements_calendar_year(
        self, benefits: Benefits
    ) -> None:
        placement = _placement(sector=Sector.PUBLIC)
        await benefits.add_placement(placement)
        reports = [
            (Month(2026, 11), 1, 500_00, 900_00),
            (Month(2026, 11), 2, 400_00, 800_00),
            (Month(2026, 12), 1, 300_00, 700_00),
            (Month(2027, 1), 1, 200_00, 600_00),
        ]
        report_ids = []
        for month, revision, payable, wage_costs in reports:
            report_ids.append(uuid4())
            await benefits.add_report(
                WageReport(
                    report_id=report_ids[-1],
                    application_id=placement.application_id,
                    month=month,
                    revision=revision,
                    paid_hours=Decimal("160.5"),
                    wage_costs_ore=wage_costs,
                    refunds_ore=0,
                    payable_ore=payable,
                    calculation={"rate_category": "A"},
                )
            )

        assert await benefits.reported_months(placement.application_id, 2026) == [
            ReportedMonth(Month(2026, 11), 2, 400_00, 800_00),
            ReportedMonth(Month(2026, 12), 1, 300_00, 700_00),
        ]
        assert await benefits.reported_months(uuid4(), 2026) == []
        assert await benefits.report_known(report_ids[0]) is True
        assert await benefits.report_known(uuid4()) is False

    async def test_the_ledger_enters_an_idempotency_key_once_and_records_each_answer(self, benefits: Benefits) -> None:
        paid, failed, later = _instruction(), _instruction(amount_ore=1_000), _instruction()
        assert await benefits.add_instructions([paid, failed]) == [paid, failed]
        assert await benefits.add_instructions([replace(paid, amount_ore=5), later]) == [later]
        assert await benefits.add_instructions([paid, failed]) == []
        assert await benefits.add_instructions([]) == []

        entry = await benefits.instruction_for_update(paid.instruction_id)
        assert entry is not None and (entry.instruction, entry.state) == (paid, State.ISSUED)
        assert entry.instruction.amount_ore == paid.amount_ore  # the first entry's, not the one refused later
        await benefits.record_settlement(paid.instruction_id, paid.amount_ore, date(2026, 11, 28), "bank-1")
        await benefits.record_failure(failed.instruction_id, State.FAILED, "account_closed", "closed")

        settled = await benefits.instruction_for_update(paid.instruction_id)
        assert settled is not None and settled.state is State.SETTLED
        refused = await benefits.instruction_for_update(failed.instruction_id)
        assert refused is not None and refused.state is State.FAILED
        assert await benefits.instruction_for_update(uuid4()) is None

    async def test_a_replacement_takes_over_a_failed_instruction_with_its_calculation(self, benefits: Benefits) -> None:
        placement = _placement(sector=Sector.PRIVATE)
        await benefits.add_placement(placement)
        report_id = uuid4()
        await benefits.add_report(
            WageReport(
                report_id=report_id,
                application_id=placement.application_id,
                month=NOVEMBER,
                revision=1,
                paid_hours=Decimal(160),
                wage_costs_ore=3_000_000,
                refunds_ore=0,
                payable_ore=1_378_560,
                calculation={"rate_category": "A"},
            )
        )
        failed = _instruction(
            amount_ore=1_378_560,
            purpose=Purpose.WAGE_SUBSIDY,
            citizen_ref=None,
            payee_cvr="12345678",
            application_id=placement.application_id,
        )
        await benefits.add_instructions([failed])
        await benefits.add_calculation(failed.instruction_id, report_id, {"payable_ore": 1_378_560})
        await benefits.record_failure(failed.instruction_id, State.FAILED, "account_closed", "closed")
        replacement = failed.reissued()

        await benefits.add_replacement(failed, replacement)

        before = await benefits.instruction_for_update(failed.instruction_id)
        after = await benefits.instruction_for_update(replacement.instruction_id)
        assert before is not None and before.state is State.REISSUED
        assert after is not None and (after.instruction, after.state) == (replacement, State.ISSUED)
        assert await benefits.calculation(replacement.instruction_id) == {"payable_ore": 1_378_560}
        assert await benefits.calculation(_instruction().instruction_id) is None

    async def test_circumstances_in_clear_are_found_and_sealed_and_a_ring_sealed_cpr_number_shredded(
        self, benefits: Benefits, in_clear: InClear
    ) -> None:
        keyed, keyless = sorted((citizen(), citizen()), key=lambda c: c.citizen_ref)
        data_key, wrapped = DATA_KEYS.new_key(keyed.citizen_ref)
        under_key = shredding.seal_with(data_key, keyed.citizen_ref, b"0101901234")
        await in_clear(keyed, StoredCpr(under_key, shreddable=True, data_key=None), wrapped)
        await in_clear(keyless, StoredCpr(b"ring-sealed", shreddable=False, data_key=None), None)

        found = await benefits.clear_profiles_for_update(10)
        assert [(p.citizen, p.data_key, p.ring_sealed_cpr, p.erased) for p in found] == [
            (keyed, wrapped, None, False),
            (keyless, None, b"ring-sealed", False),
        ]
        assert [p.citizen for p in await benefits.clear_profiles_for_update(1)] == [keyed]
        [only] = await benefits.clear_profiles_for_update(10, keyless.citizen_ref)
        assert (only.citizen, only.data_key, only.ring_sealed_cpr) == (keyless, None, b"ring-sealed")
        assert await benefits.citizen_for_update(keyless.citizen_ref) == keyless  # read in clear

        await benefits.seal_profile(keyed.citizen_ref, store.sealed_profile(keyed, data_key), None, None)
        assert await benefits.clear_profiles_for_update(10, keyed.citizen_ref) == []
        assert await benefits.citizen_for_update(keyed.citizen_ref) == keyed  # opened under the data key
        assert await benefits.sealed_cpr(keyed.citizen_ref) == StoredCpr(under_key, shreddable=True, data_key=wrapped)

        assert await benefits.shred_ring_sealed_cpr(keyless.citizen_ref) is True
        assert await benefits.shred_ring_sealed_cpr(keyless.citizen_ref) is False
        shredded = await benefits.sealed_cpr(keyless.citizen_ref)
        assert shredded.shreddable and shredded.sealed != b"ring-sealed" and shredded.data_key is None
