"""The `Benefits` port in memory, for the handlers' unit tests; `benefits_contract.py` holds it to what PostgreSQL
does."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from jobbro import shredding
from services.benefits.domain import Citizen, Instruction, LedgerEntry, Placement, ReportedMonth, State, StoredCpr
from services.benefits.rules import Month
from services.benefits.store import ClearProfile, WageReport


@dataclass
class _Registered:
    citizen: Citizen
    sealed: bool
    """Whether the circumstances are sealed under the data key (False: as imported before migration 0006)."""
    cpr: StoredCpr


@dataclass
class _Entry:
    instruction: Instruction
    state: State
    replaces: UUID | None = None
    settled: tuple[int, date, str] | None = None
    failure: tuple[str, str] | None = None


class InMemoryBenefits:
    """The registry, placements, wage reports, ledger and payee keys in dictionaries."""

    def __init__(self) -> None:
        self._citizens: dict[str, _Registered] = {}
        self._data_keys: dict[str, bytes] = {}
        self._erasures: dict[str, tuple[UUID, datetime]] = {}
        self.imports: dict[UUID, tuple[str, int]] = {}
        """import id → (source, citizens)."""
        self._staged: dict[str, int] = {}
        self._payee_keys: dict[str, bytes] = {}
        self._placements: dict[UUID, Placement] = {}
        self._reports: list[WageReport] = []
        self._ledger: dict[UUID, _Entry] = {}
        self._calculations: dict[UUID, tuple[UUID, dict[str, Any]]] = {}

    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]:
        self._data_keys.pop(erasure.citizen_ref, None)
        return self._erasures.setdefault(erasure.citizen_ref, (erasure.erasure_id, datetime.now(UTC)))

    async def upsert_citizens(self, import_id: UUID, citizens: Iterable[tuple[Citizen, bytes, bytes, bytes]]) -> None:
        for citizen, data_key, sealed_cpr, _profile in citizens:
            self._data_keys[citizen.citizen_ref] = data_key
            self._citizens[citizen.citizen_ref] = _Registered(citizen, True, StoredCpr(sealed_cpr, True, None))

    def register_in_clear(self, citizen: Citizen, cpr: StoredCpr, data_key: bytes | None) -> None:
        """A citizen as imported before migration 0006 (circumstances in clear), and before data keys if `cpr` is
        sealed under the ring alone; what the PostgreSQL suite writes with SQL."""
        self._citizens[citizen.citizen_ref] = _Registered(citizen, False, cpr)
        if data_key is not None:
            self._data_keys[citizen.citizen_ref] = data_key

    async def erased_among(self, refs: Sequence[str]) -> set[str]:
        return {ref for ref in refs if ref in self._erasures}

    async def stage_import(self) -> None:
        self._staged = {}

    async def earlier_rows(self, refs: Sequence[str], numbers: Sequence[int]) -> dict[int, int]:
        earlier = {}
        for ref, number in zip(refs, numbers, strict=True):
            first = self._staged.setdefault(ref, number)
            if first != number:
                earlier[number] = first
        return earlier

    async def record_import(self, import_id: UUID, source: str, citizens: int) -> None:
        self.imports[import_id] = (source, citizens)

    async def citizen_for_update(self, citizen_ref: str) -> Citizen | None:
        registered = self._citizens.get(citizen_ref)
        if registered is None or (registered.sealed and citizen_ref not in self._data_keys):
            return None  # an erased citizen's circumstances do not open
        return registered.citizen

    async def benefit_for_update(self, citizen_ref: str) -> str | None:
        registered = self._citizens.get(citizen_ref)
        return registered.citizen.benefit if registered else None

    async def clear_profiles_for_update(self, limit: int, citizen_ref: str | None = None) -> list[ClearProfile]:
        clear = sorted(ref for ref, registered in self._citizens.items() if not registered.sealed)
        return [
            ClearProfile(
                self._citizens[ref].citizen,
                self._data_keys.get(ref),
                None if self._citizens[ref].cpr.shreddable else self._citizens[ref].cpr.sealed,
                ref in self._erasures,
            )
            for ref in clear
            if citizen_ref in (None, ref)
        ][:limit]

    async def seal_profile(
        self, citizen_ref: str, profile: bytes, new_key: bytes | None, sealed_cpr: bytes | None
    ) -> None:
        if new_key is not None:
            self._data_keys[citizen_ref] = new_key
        registered = self._citizens[citizen_ref]
        registered.sealed = True
        if sealed_cpr is not None:
            registered.cpr = StoredCpr(sealed_cpr, True, None)

    async def sealed_cpr(self, citizen_ref: str) -> StoredCpr:
        cpr = self._citizens[citizen_ref].cpr
        return replace(cpr, data_key=self._data_keys.get(citizen_ref)) if cpr.shreddable else cpr

    async def shred_ring_sealed_cpr(self, citizen_ref: str) -> bool:
        registered = self._citizens.get(citizen_ref)
        if registered is None or registered.cpr.shreddable:
            return False
        registered.cpr = StoredCpr(shredding.seal_forgotten(citizen_ref, registered.cpr.sealed), True, None)
        return True

    async def payee_keys(self, refs: Sequence[str]) -> dict[str, bytes]:
        return {ref: self._payee_keys[ref] for ref in refs if ref in self._payee_keys}

    async def add_payee_keys(self, keys: Mapping[str, bytes]) -> set[str]:
        added = {ref for ref in keys if ref not in self._erasures and ref not in self._payee_keys}
        self._payee_keys |= {ref: keys[ref] for ref in added}
        return added

    async def destroy_payee_key(self, citizen_ref: str) -> bool:
        return self._payee_keys.pop(citizen_ref, None) is not None

    async def add_placement(self, placement: Placement) -> bool:
        if placement.application_id in self._placements:
            return False
        self._placements[placement.application_id] = placement
        return True

    async def placement_for_update(self, application_id: UUID) -> Placement | None:
        return self._placements.get(application_id)

    async def save_placement(self, placement: Placement) -> None:
        if placement.application_id in self._placements:
            kept = self._placements[placement.application_id]
            self._placements[placement.application_id] = replace(
                kept,
                period=replace(kept.period, end=placement.period.end),
                hours=placement.hours,
                ended=placement.ended,
                recoverable_ore=placement.recoverable_ore,
            )

    async def report_known(self, report_id: UUID) -> bool:
        return any(report.report_id == report_id for report in self._reports)

    async def reported_months(self, application_id: UUID, year: int) -> list[ReportedMonth]:
        latest: dict[Month, WageReport] = {}
        for report in sorted(self._reports, key=lambda r: r.revision):
            if report.application_id == application_id and report.month.year == year:
                latest[report.month] = report
        return [
            ReportedMonth(r.month, r.revision, r.payable_ore, r.wage_costs_ore)
            for r in sorted(latest.values(), key=lambda r: r.month.first_day)
        ]

    async def add_report(self, report: WageReport) -> None:
        if any(
            r.report_id == report.report_id
            or (r.application_id, r.month, r.revision) == (report.application_id, report.month, report.revision)
            for r in self._reports
        ):
            raise ValueError(f"wage report {report.report_id} (or its month's revision {report.revision}) exists")
        self._reports.append(report)

    async def add_instructions(self, instructions: list[Instruction]) -> list[Instruction]:
        keys = {entry.instruction.idempotency_key for entry in self._ledger.values()}
        fresh = []
        for instruction in instructions:
            if instruction.idempotency_key not in keys:
                keys.add(instruction.idempotency_key)
                self._ledger[instruction.instruction_id] = _Entry(instruction, State.ISSUED)
                fresh.append(instruction)
        return fresh

    async def add_replacement(self, failed: Instruction, replacement: Instruction) -> None:
        self._ledger[replacement.instruction_id] = _Entry(replacement, State.ISSUED, replaces=failed.instruction_id)
        self._ledger[failed.instruction_id].state = State.REISSUED
        if failed.instruction_id in self._calculations:
            self._calculations[replacement.instruction_id] = self._calculations[failed.instruction_id]

    async def add_calculation(self, instruction_id: UUID, report_id: UUID, calculation: dict[str, Any]) -> None:
        self._calculations[instruction_id] = (report_id, calculation)

    async def calculation(self, instruction_id: UUID) -> dict[str, Any] | None:
        found = self._calculations.get(instruction_id)
        return found[1] if found else None

    async def instruction_for_update(self, instruction_id: UUID) -> LedgerEntry | None:
        entry = self._ledger.get(instruction_id)
        return LedgerEntry(entry.instruction, entry.state) if entry else None

    async def record_settlement(
        self, instruction_id: UUID, amount_ore: int, settled_on: date, bank_reference: str
    ) -> None:
        entry = self._ledger[instruction_id]
        entry.state, entry.settled = State.SETTLED, (amount_ore, settled_on, bank_reference)

    async def record_failure(self, instruction_id: UUID, state: State, code: str, reason: str) -> None:
        entry = self._ledger[instruction_id]
        entry.state, entry.failure = state, (code, reason)
