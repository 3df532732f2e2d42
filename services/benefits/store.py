"""All SQL of the benefits service. What the handlers read and write is behind the `Benefits` port (PostgreSQL:
`PgBenefits`, on the unit of work's connection; tests: an in-memory fake held to the same contract suite); the
payment run's reader and the ledger's API read with functions on their own connection."""

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from jobbro import shredding
from rules import Sector
from services.benefits.domain import (
    NO_BENEFIT,
    Citizen,
    Instruction,
    LedgerEntry,
    PayableCitizen,
    Placement,
    Purpose,
    ReportedMonth,
    State,
    StoredCpr,
    Totals,
)
from services.benefits.rules import HoursStep, Month, Period

_CLEAR_FIELDS = "municipality, benefit, monthly_rate_ore, top_up_monthly_ore"
"""What the registry keeps of a citizen in clear: the tenant, and what the payment run pays and the ledger shows."""
_PROFILE_FIELDS = (
    "target_group",
    "birth_date",
    "unemployed_since",
    "single_parent",
    "upper_secondary_or_vocational_education",
    "newly_graduated",
    "qualifying_education",
)
"""The citizen's circumstances: sealed under their data key (`profile_sealed`); the columns of these names hold
them in clear only in rows imported before migration 0006 (`handlers.seal_registry` seals those)."""
_DATES = ("birth_date", "unemployed_since")
_FORGET_CLEAR_PROFILE = f"({', '.join(_PROFILE_FIELDS)}) = ({', '.join('NULL' for _ in _PROFILE_FIELDS)})"


def sealed_profile(citizen: Citizen, data_key: bytes) -> bytes:
    """The citizen's circumstances as JSON, sealed under their data key: erasing them leaves it unreadable."""
    profile = {name: getattr(citizen, name) for name in _PROFILE_FIELDS}
    for name in _DATES:
        profile[name] = profile[name] and profile[name].isoformat()
    return shredding.seal_with(data_key, citizen.citizen_ref, json.dumps(profile).encode())


def _opened_profile(data_key: bytes, citizen_ref: str, sealed: bytes) -> dict[str, Any]:
    profile = json.loads(shredding.open_with(data_key, citizen_ref, sealed))
    for name in _DATES:
        profile[name] = profile[name] and date.fromisoformat(profile[name])
    return profile


@dataclass(frozen=True)
class ClearProfile:
    """A row imported before its circumstances were sealed: the citizen, their wrapped data key (None: imported before
    data keys, or erased), their ring-sealed CPR number (None: sealed under the data key already), and whether they
    were erased."""

    citizen: Citizen
    data_key: bytes | None
    ring_sealed_cpr: bytes | None
    erased: bool


@dataclass(frozen=True)
class WageReport:
    """A month's wage report as kept: what it made payable, and how that was worked out (`calculation`)."""

    report_id: UUID
    application_id: UUID
    month: Month
    revision: int
    paid_hours: Decimal
    wage_costs_ore: int
    refunds_ore: int
    payable_ore: int
    calculation: dict[str, Any]


_STORED_CPR = "c.cpr_sealed, c.cpr_shreddable, k.data_key"


def _stored_cpr(ring_sealed: bytes | None, shreddable: bytes | None, data_key: bytes | None) -> StoredCpr:
    if shreddable is None:
        assert ring_sealed is not None  # the table's check: one of the two
        return StoredCpr(ring_sealed, shreddable=False, data_key=None)
    return StoredCpr(shreddable, shreddable=True, data_key=data_key)


def _hours_json(hours: Iterable[HoursStep]) -> list[dict[str, str]]:
    return [{"from_date": step.from_date.isoformat(), "hours_per_week": str(step.hours_per_week)} for step in hours]


async def placement_citizen(conn: asyncpg.Connection, application_id: UUID) -> str | None:
    """The citizen of a confirmed placement; None for a placement never confirmed."""
    return await conn.fetchval("SELECT citizen_ref FROM placements WHERE application_id = $1", application_id)


def _instruction_row(instruction: Instruction, replaces: UUID | None = None) -> tuple[Any, ...]:
    return (
        instruction.instruction_id,
        instruction.idempotency_key,
        instruction.purpose,
        instruction.month.first_day,
        instruction.period.start,
        instruction.period.end,
        instruction.amount_ore,
        instruction.due_on,
        instruction.citizen_ref,
        instruction.application_id,
        instruction.payee_cvr,
        replaces,
    )


async def instruction(conn: asyncpg.Connection, instruction_id: UUID) -> asyncpg.Record | None:
    """An instruction as the ledger holds it, with its calculation (null for a benefit payment)."""
    return await conn.fetchrow(
        """SELECT i.instruction_id, i.idempotency_key, i.purpose, i.month, i.period_start, i.period_end, i.amount_ore,
                  i.due_on, i.citizen_ref, i.application_id, i.payee_cvr, i.state, i.settled_ore, i.settled_on,
                  i.replaces, c.calculation
           FROM payment_instructions i LEFT JOIN payment_calculations c USING (instruction_id)
           WHERE i.instruction_id = $1""",
        instruction_id,
    )


async def wage_reports(conn: asyncpg.Connection, application_id: UUID) -> list[asyncpg.Record]:
    """A placement's wage reports, oldest first, each with its calculation and the instructions that paid it."""
    return await conn.fetch(
        """SELECT r.report_id, r.month, r.revision, r.paid_hours, r.wage_costs_ore, r.refunds_ore, r.payable_ore,
                  r.received_at, r.calculation,
                  coalesce(array_agg(c.instruction_id ORDER BY i.issued_at) FILTER (WHERE c.instruction_id IS NOT NULL),
                           '{}') AS instruction_ids
           FROM wage_reports r
           LEFT JOIN payment_calculations c ON c.report_id = r.report_id
           LEFT JOIN payment_instructions i ON i.instruction_id = c.instruction_id
           WHERE r.application_id = $1
           GROUP BY r.report_id ORDER BY r.month, r.revision""",
        application_id,
    )


async def reconciliation(conn: asyncpg.Connection, month: Month) -> list[Totals]:
    """A month's ledger per purpose: instructions, and øre issued, settled, failed and still awaiting an answer."""
    rows = await conn.fetch(
        """SELECT purpose, count(*) AS instructions, sum(amount_ore)::bigint AS issued_ore,
                  coalesce(sum(settled_ore) FILTER (WHERE state = 'settled'), 0)::bigint AS settled_ore,
                  coalesce(sum(amount_ore) FILTER (WHERE state IN ('failed', 'reissued')), 0)::bigint AS failed_ore,
                  coalesce(sum(amount_ore) FILTER (WHERE state = 'issued'), 0)::bigint AS outstanding_ore
           FROM payment_instructions WHERE month = $1 GROUP BY purpose ORDER BY purpose""",
        month.first_day,
    )
    return [Totals(**{**row, "purpose": Purpose(row["purpose"])}) for row in rows]


async def recoverable_ore(conn: asyncpg.Connection) -> int:
    """What employers owe back after downward corrections, not yet offset against later subsidy."""
    return await conn.fetchval("SELECT coalesce(sum(recoverable_ore), 0)::bigint FROM placements")


async def count_payable(conn: asyncpg.Connection) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM citizens c WHERE benefit <> $1
           AND NOT EXISTS (SELECT 1 FROM citizen_erasures e WHERE e.citizen_ref = c.citizen_ref)""",
        NO_BENEFIT,
    )


_PAYABLE = f"""SELECT c.citizen_ref, c.benefit, c.monthly_rate_ore, c.top_up_monthly_ore, {_STORED_CPR},
              coalesce(ws.starts, '{{}}') AS starts, coalesce(ws.ends, '{{}}') AS ends
       FROM citizens c
       LEFT JOIN citizen_keys k ON k.citizen_ref = c.citizen_ref
       LEFT JOIN (
           SELECT p.citizen_ref, array_agg(p.starts_on ORDER BY p.starts_on) AS starts,
                  array_agg(p.ends_on ORDER BY p.starts_on) AS ends
           FROM placements p
           WHERE p.sector IS NOT NULL AND p.starts_on <= $2 AND p.ends_on >= $1
           GROUP BY p.citizen_ref
       ) ws ON ws.citizen_ref = c.citizen_ref
       WHERE c.benefit <> $3
         AND NOT EXISTS (SELECT 1 FROM citizen_erasures e WHERE e.citizen_ref = c.citizen_ref)
       ORDER BY c.citizen_ref"""


def payable_query(month: Month) -> tuple[str, tuple[Any, ...]]:
    """What the payment run reads for `month`, as SQL and its arguments (the benchmark copies it out: the floor)."""
    return _PAYABLE, (month.first_day, month.last_day, NO_BENEFIT)


async def payable_citizens(
    conn: asyncpg.Connection, month: Month, batch_size: int
) -> AsyncIterator[list[PayableCitizen]]:
    """Citizens with a benefit, in batches from a server-side cursor (the caller holds `conn`'s transaction), each
    with the wage-subsidy periods overlapping the month: memory holds one batch, whatever the registry's size.

    The month's jobs are grouped once and merged in, not looked up per citizen; citizens come in reference order,
    so the ledger's idempotency keys are appended to their index rather than scattered over it."""
    query, args = payable_query(month)
    cursor = await conn.cursor(query, *args)
    while rows := await cursor.fetch(batch_size):
        yield [
            PayableCitizen(
                ref, benefit, rate_ore, top_up_ore, tuple(map(Period, starts, ends)), _stored_cpr(ring, shred, key)
            )
            for ref, benefit, rate_ore, top_up_ore, ring, shred, key, starts, ends in rows
        ]


class Benefits(Protocol):
    """What benefits' handlers read and write: the registry, placements with their wage reports, the ledger and the
    payee keys (one contract suite, tests/benefits/benefits_contract.py, holds every implementation to it)."""

    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]: ...
    async def upsert_citizens(
        self, import_id: UUID, citizens: Iterable[tuple[Citizen, bytes, bytes, bytes]]
    ) -> None: ...
    async def erased_among(self, refs: Sequence[str]) -> set[str]: ...
    async def stage_import(self) -> None: ...
    async def earlier_rows(self, refs: Sequence[str], numbers: Sequence[int]) -> dict[int, int]: ...
    async def record_import(self, import_id: UUID, source: str, citizens: int) -> None: ...
    async def citizen_for_update(self, citizen_ref: str) -> Citizen | None: ...
    async def benefit_for_update(self, citizen_ref: str) -> str | None: ...
    async def clear_profiles_for_update(self, limit: int, citizen_ref: str | None = None) -> list[ClearProfile]: ...
    async def seal_profile(
        self, citizen_ref: str, profile: bytes, new_key: bytes | None, sealed_cpr: bytes | None
    ) -> None: ...
    async def sealed_cpr(self, citizen_ref: str) -> StoredCpr: ...
    async def shred_ring_sealed_cpr(self, citizen_ref: str) -> bool: ...
    async def payee_keys(self, refs: Sequence[str]) -> dict[str, bytes]: ...
    async def add_payee_keys(self, keys: Mapping[str, bytes]) -> set[str]: ...
    async def destroy_payee_key(self, citizen_ref: str) -> bool: ...
    async def add_placement(self, placement: Placement) -> bool: ...
    async def placement_for_update(self, application_id: UUID) -> Placement | None: ...
    async def save_placement(self, placement: Placement) -> None: ...
    async def report_known(self, report_id: UUID) -> bool: ...
    async def reported_months(self, application_id: UUID, year: int) -> list[ReportedMonth]: ...
    async def add_report(self, report: WageReport) -> None: ...
    async def add_instructions(self, instructions: list[Instruction]) -> list[Instruction]: ...
    async def add_replacement(self, failed: Instruction, replacement: Instruction) -> None: ...
    async def add_calculation(self, instruction_id: UUID, report_id: UUID, calculation: dict[str, Any]) -> None: ...
    async def calculation(self, instruction_id: UUID) -> dict[str, Any] | None: ...
    async def instruction_for_update(self, instruction_id: UUID) -> LedgerEntry | None: ...
    async def record_settlement(
        self, instruction_id: UUID, amount_ore: int, settled_on: date, bank_reference: str
    ) -> None: ...
    async def record_failure(self, instruction_id: UUID, state: State, code: str, reason: str) -> None: ...


class PgBenefits:
    """The `Benefits` port on PostgreSQL, over the unit of work's connection; `keys` opens the citizens' data keys."""

    def __init__(self, conn: asyncpg.Connection, keys: shredding.KeyWrap) -> None:
        self._conn = conn
        self._keys = keys

    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]:
        """Destroy the citizen's data key and record the erasure (the first erasure's id and time, if erased before)."""
        return await shredding.erase(self._conn, erasure)

    async def upsert_citizens(self, import_id: UUID, citizens: Iterable[tuple[Citizen, bytes, bytes, bytes]]) -> None:
        """Write imported citizens with their data keys, and their CPR numbers and circumstances sealed under them; a
        citizen imported before is replaced (a new key, new seals, nothing left in clear)."""
        citizens = list(citizens)
        await self._conn.executemany(
            """INSERT INTO citizen_keys (citizen_ref, data_key) VALUES ($1, $2)
               ON CONFLICT (citizen_ref) DO UPDATE SET data_key = EXCLUDED.data_key, created_at = now()""",
            [(c.citizen_ref, data_key) for c, data_key, _cpr, _profile in citizens],
        )
        await self._conn.executemany(
            f"""INSERT INTO citizens
                    (citizen_ref, cpr_sealed, cpr_shreddable, profile_sealed, import_id, {_CLEAR_FIELDS})
                VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (citizen_ref) DO UPDATE SET
                    cpr_sealed = NULL, cpr_shreddable = EXCLUDED.cpr_shreddable,
                    profile_sealed = EXCLUDED.profile_sealed, import_id = EXCLUDED.import_id, updated_at = now(),
                    ({_CLEAR_FIELDS}) = ({", ".join(f"EXCLUDED.{name}" for name in _CLEAR_FIELDS.split(", "))}),
                    {_FORGET_CLEAR_PROFILE}""",
            [
                (
                    c.citizen_ref,
                    sealed_cpr,
                    profile,
                    import_id,
                    c.municipality,
                    c.benefit,
                    c.monthly_rate_ore,
                    c.top_up_monthly_ore,
                )
                for c, _data_key, sealed_cpr, profile in citizens
            ],
        )

    async def erased_among(self, refs: Sequence[str]) -> set[str]:
        """The references of these citizens that were erased: the registry takes them in no more."""
        rows = await self._conn.fetch(
            "SELECT citizen_ref FROM citizen_erasures WHERE citizen_ref = ANY($1::text[])", refs
        )
        return {row["citizen_ref"] for row in rows}

    async def stage_import(self) -> None:
        """A table of the citizens one import names, row by row; it goes with the transaction (commit or roll back)."""
        await self._conn.execute(
            "CREATE TEMP TABLE import_rows (citizen_ref text PRIMARY KEY, row_number integer NOT NULL) ON COMMIT DROP"
        )

    async def earlier_rows(self, refs: Sequence[str], numbers: Sequence[int]) -> dict[int, int]:
        """Stage rows of the import (`stage_import`); for each naming a citizen an earlier row named, that row."""
        staged = await self._conn.fetch(
            """INSERT INTO import_rows SELECT * FROM unnest($1::text[], $2::int[])
               ON CONFLICT (citizen_ref) DO NOTHING RETURNING row_number""",
            refs,
            numbers,
        )
        fresh = {row["row_number"] for row in staged}
        repeated = [(ref, number) for ref, number in zip(refs, numbers, strict=True) if number not in fresh]
        if not repeated:
            return {}
        first = await self._conn.fetch(
            "SELECT citizen_ref, row_number FROM import_rows WHERE citizen_ref = ANY($1)", [ref for ref, _ in repeated]
        )
        first_of = {row["citizen_ref"]: row["row_number"] for row in first}
        return {number: first_of[ref] for ref, number in repeated}

    async def record_import(self, import_id: UUID, source: str, citizens: int) -> None:
        await self._conn.execute(
            "INSERT INTO citizen_imports (import_id, source, citizens) VALUES ($1, $2, $3)", import_id, source, citizens
        )

    async def citizen_for_update(self, citizen_ref: str) -> Citizen | None:
        """The citizen, locked until the transaction ends (events about them are published in the order they happen);
        None for one the registry does not hold, or holds no more: an erased citizen's circumstances do not open."""
        row = await self._conn.fetchrow(
            f"""SELECT c.citizen_ref, {_CLEAR_FIELDS}, {", ".join(_PROFILE_FIELDS)}, c.profile_sealed, k.data_key
                FROM citizens c LEFT JOIN citizen_keys k USING (citizen_ref) WHERE citizen_ref = $1 FOR UPDATE OF c""",
            citizen_ref,
        )
        if row is None:
            return None
        fields = dict(row)
        sealed, wrapped = fields.pop("profile_sealed"), fields.pop("data_key")
        if sealed is not None:
            if wrapped is None:
                return None
            fields.update(_opened_profile(self._keys.unwrap(citizen_ref, wrapped), citizen_ref, sealed))
        return Citizen(**fields)

    async def benefit_for_update(self, citizen_ref: str) -> str | None:
        """The citizen's benefit, their row locked until the transaction ends; None for one the registry does not
        hold."""
        return await self._conn.fetchval("SELECT benefit FROM citizens WHERE citizen_ref = $1 FOR UPDATE", citizen_ref)

    async def clear_profiles_for_update(self, limit: int, citizen_ref: str | None = None) -> list[ClearProfile]:
        """Up to `limit` rows whose circumstances are in clear (only `citizen_ref`'s, if given), locked; rows another
        transaction holds are skipped."""
        rows = await self._conn.fetch(
            f"""SELECT c.citizen_ref, {_CLEAR_FIELDS}, {", ".join(_PROFILE_FIELDS)}, c.cpr_sealed, k.data_key,
                       EXISTS (SELECT 1 FROM citizen_erasures e WHERE e.citizen_ref = c.citizen_ref) AS erased
                FROM citizens c LEFT JOIN citizen_keys k USING (citizen_ref)
                WHERE c.profile_sealed IS NULL AND ($2::text IS NULL OR c.citizen_ref = $2)
                ORDER BY c.citizen_ref LIMIT $1 FOR UPDATE OF c SKIP LOCKED""",
            limit,
            citizen_ref,
        )
        found = []
        for row in rows:
            fields = dict(row)
            data_key, ring_sealed, erased = fields.pop("data_key"), fields.pop("cpr_sealed"), fields.pop("erased")
            found.append(ClearProfile(Citizen(**fields), data_key, ring_sealed, erased))
        return found

    async def seal_profile(
        self, citizen_ref: str, profile: bytes, new_key: bytes | None, sealed_cpr: bytes | None
    ) -> None:
        """Replace a row's clear circumstances by their seal; with `new_key` (the citizen had none) store it, and their
        CPR number sealed under it in place of the ring's seal alone."""
        if new_key is not None:
            await self._conn.execute(
                "INSERT INTO citizen_keys (citizen_ref, data_key) VALUES ($1, $2)", citizen_ref, new_key
            )
        await self._conn.execute(
            f"""UPDATE citizens SET profile_sealed = $2, {_FORGET_CLEAR_PROFILE},
                       cpr_sealed = CASE WHEN $3::bytea IS NULL THEN cpr_sealed END,
                       cpr_shreddable = coalesce($3, cpr_shreddable)
                WHERE citizen_ref = $1""",
            citizen_ref,
            profile,
            sealed_cpr,
        )

    async def sealed_cpr(self, citizen_ref: str) -> StoredCpr:
        """The sealed CPR number of a registered citizen (the registry never forgets a citizen it paid)."""
        row = await self._conn.fetchrow(
            f"SELECT {_STORED_CPR} FROM citizens c LEFT JOIN citizen_keys k USING (citizen_ref) WHERE citizen_ref = $1",
            citizen_ref,
        )
        return _stored_cpr(row["cpr_sealed"], row["cpr_shreddable"], row["data_key"])

    async def shred_ring_sealed_cpr(self, citizen_ref: str) -> bool:
        """For an erased citizen imported before data keys: their ring-sealed CPR number sealed again under a key
        nobody keeps, so it is gone like the others; False if their row has a data key's seal already (or none)."""
        ring_sealed = await self._conn.fetchval(
            "SELECT cpr_sealed FROM citizens WHERE citizen_ref = $1 AND cpr_sealed IS NOT NULL FOR UPDATE", citizen_ref
        )
        if ring_sealed is None:
            return False
        await self._conn.execute(
            "UPDATE citizens SET cpr_sealed = NULL, cpr_shreddable = $2 WHERE citizen_ref = $1",
            citizen_ref,
            shredding.seal_forgotten(citizen_ref, ring_sealed),
        )
        return True

    async def payee_keys(self, refs: Sequence[str]) -> dict[str, bytes]:
        """The stored (wrapped) payee keys of these citizens that have one."""
        rows = await self._conn.fetch(
            "SELECT citizen_ref, payee_key FROM payee_keys WHERE citizen_ref = ANY($1::text[])", refs
        )
        return {row["citizen_ref"]: row["payee_key"] for row in rows}

    async def add_payee_keys(self, keys: Mapping[str, bytes]) -> set[str]:
        """Store new payee keys; the citizens whose key this added (not one erased, nor one another transaction
        added)."""
        rows = await self._conn.fetch(
            """INSERT INTO payee_keys (citizen_ref, payee_key)
               SELECT ref, key FROM unnest($1::text[], $2::bytea[]) AS k(ref, key)
               WHERE NOT EXISTS (SELECT 1 FROM citizen_erasures e WHERE e.citizen_ref = k.ref)
               ON CONFLICT (citizen_ref) DO NOTHING RETURNING citizen_ref""",
            list(keys),
            list(keys.values()),
        )
        return {row["citizen_ref"] for row in rows}

    async def destroy_payee_key(self, citizen_ref: str) -> bool:
        """Delete the citizen's payee key; whether they had one."""
        return (
            await self._conn.fetchval("DELETE FROM payee_keys WHERE citizen_ref = $1 RETURNING true", citizen_ref)
            or False
        )

    async def add_placement(self, placement: Placement) -> bool:
        """Keep a confirmed placement; False if it was known already (a confirmation delivered again)."""
        inserted = await self._conn.fetchval(
            """INSERT INTO placements
                   (application_id, citizen_ref, sector, employer_cvr, starts_on, ends_on, weekly_hours)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id) DO NOTHING RETURNING true""",
            placement.application_id,
            placement.citizen_ref,
            placement.sector,
            placement.employer_cvr,
            placement.period.start,
            placement.period.end,
            _hours_json(placement.hours),
        )
        return bool(inserted)

    async def placement_for_update(self, application_id: UUID) -> Placement | None:
        """The placement, locked until the transaction ends: its events are published in the order they happen."""
        row = await self._conn.fetchrow("SELECT * FROM placements WHERE application_id = $1 FOR UPDATE", application_id)
        if row is None:
            return None
        return Placement(
            application_id=row["application_id"],
            citizen_ref=row["citizen_ref"],
            sector=Sector(row["sector"]) if row["sector"] else None,
            employer_cvr=row["employer_cvr"],
            period=Period(row["starts_on"], row["ends_on"]),
            hours=tuple(
                HoursStep(date.fromisoformat(s["from_date"]), Decimal(s["hours_per_week"])) for s in row["weekly_hours"]
            ),
            ended=row["ended"],
            recoverable_ore=row["recoverable_ore"],
        )

    async def save_placement(self, placement: Placement) -> None:
        await self._conn.execute(
            """UPDATE placements SET ends_on = $2, weekly_hours = $3, ended = $4, recoverable_ore = $5
               WHERE application_id = $1""",
            placement.application_id,
            placement.period.end,
            _hours_json(placement.hours),
            placement.ended,
            placement.recoverable_ore,
        )

    async def report_known(self, report_id: UUID) -> bool:
        return bool(await self._conn.fetchval("SELECT true FROM wage_reports WHERE report_id = $1", report_id))

    async def reported_months(self, application_id: UUID, year: int) -> list[ReportedMonth]:
        """Each month of the placement's calendar year by its latest report."""
        rows = await self._conn.fetch(
            """SELECT DISTINCT ON (month) month, revision, payable_ore, wage_costs_ore FROM wage_reports
               WHERE application_id = $1 AND month >= make_date($2, 1, 1) AND month < make_date($2 + 1, 1, 1)
               ORDER BY month, revision DESC""",
            application_id,
            year,
        )
        return [ReportedMonth(Month.of(r["month"]), r["revision"], r["payable_ore"], r["wage_costs_ore"]) for r in rows]

    async def add_report(self, report: WageReport) -> None:
        await self._conn.execute(
            """INSERT INTO wage_reports (report_id, application_id, month, revision, paid_hours, wage_costs_ore,
                                         refunds_ore, payable_ore, calculation)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            report.report_id,
            report.application_id,
            report.month.first_day,
            report.revision,
            report.paid_hours,
            report.wage_costs_ore,
            report.refunds_ore,
            report.payable_ore,
            report.calculation,
        )

    async def add_instructions(self, instructions: list[Instruction]) -> list[Instruction]:
        """Enter instructions in the ledger; return those whose idempotency key was new (only they may be sent)."""
        if not instructions:
            return []
        columns = list(zip(*(_instruction_row(i) for i in instructions), strict=True))
        new_keys = {
            row["idempotency_key"]
            for row in await self._conn.fetch(
                """INSERT INTO payment_instructions (instruction_id, idempotency_key, purpose, month, period_start,
                       period_end, amount_ore, due_on, citizen_ref, application_id, payee_cvr, replaces)
                   SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::date[], $6::date[],
                                        $7::bigint[], $8::date[], $9::text[], $10::uuid[], $11::text[], $12::uuid[])
                   ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key""",
                *columns,
            )
        }
        return [i for i in instructions if i.idempotency_key in new_keys]

    async def add_replacement(self, failed: Instruction, replacement: Instruction) -> None:
        """Enter the replacement of a failed instruction and mark the failed one reissued."""
        await self._conn.execute(
            """INSERT INTO payment_instructions (instruction_id, idempotency_key, purpose, month, period_start,
                   period_end, amount_ore, due_on, citizen_ref, application_id, payee_cvr, replaces)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
            *_instruction_row(replacement, replaces=failed.instruction_id),
        )
        await self._conn.execute(
            "UPDATE payment_instructions SET state = $2 WHERE instruction_id = $1",
            failed.instruction_id,
            State.REISSUED,
        )
        await self._conn.execute(
            """INSERT INTO payment_calculations (instruction_id, report_id, calculation)
               SELECT $2, report_id, calculation FROM payment_calculations WHERE instruction_id = $1""",
            failed.instruction_id,
            replacement.instruction_id,
        )

    async def add_calculation(self, instruction_id: UUID, report_id: UUID, calculation: dict[str, Any]) -> None:
        """Keep how a wage-subsidy instruction was worked out, beside the instruction."""
        await self._conn.execute(
            "INSERT INTO payment_calculations (instruction_id, report_id, calculation) VALUES ($1, $2, $3)",
            instruction_id,
            report_id,
            calculation,
        )

    async def calculation(self, instruction_id: UUID) -> dict[str, Any] | None:
        """How an instruction was worked out; None for a benefit payment."""
        return await self._conn.fetchval(
            "SELECT calculation FROM payment_calculations WHERE instruction_id = $1", instruction_id
        )

    async def instruction_for_update(self, instruction_id: UUID) -> LedgerEntry | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM payment_instructions WHERE instruction_id = $1 FOR UPDATE", instruction_id
        )
        if row is None:
            return None
        instruction = Instruction(
            idempotency_key=row["idempotency_key"],
            purpose=Purpose(row["purpose"]),
            month=Month.of(row["month"]),
            period=Period(row["period_start"], row["period_end"]),
            amount_ore=row["amount_ore"],
            due_on=row["due_on"],
            citizen_ref=row["citizen_ref"],
            application_id=row["application_id"],
            payee_cvr=row["payee_cvr"],
        )
        return LedgerEntry(instruction, State(row["state"]))

    async def record_settlement(
        self, instruction_id: UUID, amount_ore: int, settled_on: date, bank_reference: str
    ) -> None:
        await self._conn.execute(
            """UPDATE payment_instructions
               SET state = $2, settled_ore = $3, settled_on = $4, bank_reference = $5, answered_at = now()
               WHERE instruction_id = $1""",
            instruction_id,
            State.SETTLED,
            amount_ore,
            settled_on,
            bank_reference,
        )

    async def record_failure(self, instruction_id: UUID, state: State, code: str, reason: str) -> None:
        await self._conn.execute(
            """UPDATE payment_instructions SET state = $2, failure_code = $3, failure_reason = $4, answered_at = now()
               WHERE instruction_id = $1""",
            instruction_id,
            state,
            code,
            reason,
        )
