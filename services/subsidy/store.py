"""All SQL of the subsidy service. What the handlers read and write is behind the `Applications` port (PostgreSQL:
`PgApplications`, on the unit of work's connection; tests: an in-memory fake held to the same contract suite); the
deadline timer finds its due cases with functions on its own connection.

The aggregate is one JSON document (pydantic reads and writes the domain's dataclasses); the columns beside it
are what queries select by. Loading for a change takes the row lock, which also keeps the order of the
application's events through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from jobbro import shredding
from jobbro.retention import TableSweep
from services.subsidy.changes import CitizenPlacement
from services.subsidy.domain import PLACED_STATES, Application, Change, Scheme, State
from services.subsidy.eligibility import ExistingPlacement
from services.subsidy.signing import VerifiedSignature

_AGGREGATE = TypeAdapter(Application)
_CHANGE = TypeAdapter(Change)
_EXCLUDED = {"changes"}

RETAINED = (
    TableSweep(
        "evidence",
        """DELETE FROM signatures WHERE ctid = ANY(ARRAY(
               SELECT s.ctid FROM signatures s JOIN applications a ON a.id = s.application_id
                WHERE a.ends_on < ($1::timestamptz)::date LIMIT $2))""",
    ),
)
"""Subsidy's data classes the retention job prunes: the signed documents, five years after the placement's end."""


@dataclass(frozen=True)
class Listed:
    """An application as lists show it."""

    id: UUID
    state: State
    scheme: str
    employer_cvr: str
    production_unit: str
    position_title: str
    starts_on: date
    ends_on: date
    submitted_at: datetime


@dataclass(frozen=True)
class IdempotencyKey:
    """A submission's key: the body it was used with and the application it made."""

    fingerprint: str
    application_id: UUID


@dataclass(frozen=True)
class SignedPayload:
    """The first use of a signed document: the application it made or changed, and what for."""

    application_id: UUID
    purpose: str


@dataclass(frozen=True)
class WageReport:
    """A month of a wage-subsidy placement as reported."""

    report_id: UUID
    period_start: date
    period_end: date
    paid_hours: Decimal
    wage_costs_ore: int
    sickness_refunds_ore: int
    submitted_at: datetime


class Applications(Protocol):
    """What subsidy's handlers read and write (one contract suite, tests/subsidy/applications_contract.py, holds every
    implementation to it)."""

    async def insert(self, application: Application, traceparent: str | None = None) -> None: ...
    async def save(self, application: Application) -> None: ...
    async def get(self, application_id: UUID, *, for_update: bool = False) -> Application | None: ...
    async def version(self, application_id: UUID) -> int: ...
    async def history(self, application_id: UUID) -> list[Change]: ...
    async def listed(
        self,
        *,
        employer_cvr: str | None = None,
        municipality: str | None = None,
        state: State | None = None,
        limit: int = 100,
        after: tuple[datetime, UUID] | None = None,
        change_pending: bool = False,
    ) -> list[Listed]: ...
    async def placements_at(
        self, production_unit: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[ExistingPlacement, ...]: ...
    async def citizen_placements(
        self, citizen_ref: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[CitizenPlacement, ...]: ...
    async def claim_idempotency_key(
        self, employer_cvr: str, key: str, fingerprint: str, application_id: UUID
    ) -> IdempotencyKey | None: ...
    async def claim_signed_payload(
        self, payload_sha256: str, application_id: UUID, purpose: str
    ) -> SignedPayload | None: ...
    async def point_idempotency_key(self, employer_cvr: str, key: str, application_id: UUID) -> None: ...
    async def add_signature(
        self,
        application_id: UUID,
        purpose: str,
        signature: VerifiedSignature,
        received_at: datetime,
        citizen_ref: str | None = None,
    ) -> None: ...
    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]: ...
    async def signature(self, application_id: UUID, purpose: str) -> str | None: ...
    async def add_wage_report(self, application_id: UUID, report: WageReport) -> None: ...
    async def wage_reports(self, application_id: UUID) -> list[WageReport]: ...


class PgApplications:
    """The applications in PostgreSQL, inside the unit of work's transaction; signed documents naming a citizen sealed
    under their data key (`keys` wraps it)."""

    def __init__(self, conn: asyncpg.Connection, keys: shredding.KeyWrap) -> None:
        self._conn = conn
        self._keys = keys

    async def insert(self, application: Application, traceparent: str | None = None) -> None:
        """Store a new application and its first history, in one statement; `traceparent` is its case's trace."""
        terms = application.terms
        await self._conn.execute(
            f"""WITH application AS (
                    INSERT INTO applications (id, employer_cvr, municipality, production_unit, scheme, state, starts_on,
                                              ends_on, deadline_at, aggregate, submitted_at, updated_at,
                                              traceparent)
                    VALUES ($1, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::jsonb, $16, $16, $17))
                {_HISTORY_INSERT}""",
            *_history_arguments(application),
            terms.employer_cvr,
            terms.municipality,
            terms.production_unit,
            terms.scheme.value,
            application.state.value,
            terms.starts_on,
            application.effective_end,
            application.deadline_at,
            _aggregate_json(application),
            application.submitted_at,
            traceparent,
        )
        application.changes.clear()

    async def save(self, application: Application) -> None:
        """Store a changed application (loaded with `get(..., for_update=True)`) and its new history, in one
        statement."""
        await self._conn.execute(
            f"""WITH application AS (
                    UPDATE applications SET state = $7, ends_on = $8, deadline_at = $9, aggregate = $10::text::jsonb,
                                            updated_at = now(), version = version + 1
                    WHERE id = $1)
                {_HISTORY_INSERT}""",
            *_history_arguments(application),
            application.state.value,
            application.effective_end,
            application.deadline_at,
            _aggregate_json(application),
        )
        application.changes.clear()

    async def get(self, application_id: UUID, *, for_update: bool = False) -> Application | None:
        """One application; `for_update` locks it until the transaction ends."""
        lock = " FOR UPDATE" if for_update else ""
        document = await self._conn.fetchval(
            f"SELECT aggregate::text FROM applications WHERE id = $1{lock}", application_id
        )
        return None if document is None else _AGGREGATE.validate_json(document)

    async def version(self, application_id: UUID) -> int:
        """How many times a stored application was stored: its ETag."""
        found: int = await self._conn.fetchval("SELECT version FROM applications WHERE id = $1", application_id)
        return found

    async def history(self, application_id: UUID) -> list[Change]:
        rows = await self._conn.fetch(
            "SELECT at, action, actor, state, note FROM application_history WHERE application_id = $1 ORDER BY seq",
            application_id,
        )
        return [_CHANGE.validate_python(dict(row)) for row in rows]

    async def listed(
        self,
        *,
        employer_cvr: str | None = None,
        municipality: str | None = None,
        state: State | None = None,
        limit: int = 100,
        after: tuple[datetime, UUID] | None = None,
        change_pending: bool = False,
    ) -> list[Listed]:
        """An employer's or a municipality's applications (only placements with a change waiting for a caseworker, if
        `change_pending`), newest first, from just after the sort key `after`."""
        rows = await self._conn.fetch(
            """SELECT id, state, scheme, employer_cvr, production_unit, aggregate->'terms'->>'position_title' AS title,
                      starts_on, ends_on, submitted_at
               FROM applications
               WHERE ($1::text IS NULL OR employer_cvr = $1) AND ($2::text IS NULL OR municipality = $2)
                 AND ($3::text IS NULL OR state = $3)
                 AND ($5::timestamptz IS NULL OR (submitted_at, id) < ($5::timestamptz, $6::uuid))
                 AND (NOT $7 OR aggregate -> 'pending_change' <> 'null'::jsonb)
               ORDER BY submitted_at DESC, id DESC LIMIT $4""",
            employer_cvr,
            municipality,
            state and state.value,
            limit,
            after and after[0],
            after and after[1],
            change_pending,
        )
        return [
            Listed(
                r["id"],
                State(r["state"]),
                r["scheme"],
                r["employer_cvr"],
                r["production_unit"],
                r["title"],
                r["starts_on"],
                r["ends_on"],
                r["submitted_at"],
            )
            for r in rows
        ]

    async def placements_at(
        self, production_unit: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[ExistingPlacement, ...]:
        """The other placements pending, running or run at a production unit within a period, for the ratio rule.

        Takes a lock on the production unit first, so two decisions there cannot both count the same free place.
        """
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('subsidy.production_unit'), hashtext($1))", production_unit
        )
        rows = await self._conn.fetch(
            """SELECT scheme, starts_on, ends_on FROM applications
               WHERE production_unit = $1 AND id <> $2 AND state = ANY($3::text[])
                 AND starts_on <= $5 AND ends_on >= $4""",
            production_unit,
            excluding,
            [state.value for state in PLACED_STATES],
            first_day,
            last_day,
        )
        return tuple(
            ExistingPlacement(Scheme(row["scheme"]).rule_scheme, row["starts_on"], row["ends_on"]) for row in rows
        )

    async def citizen_placements(
        self, citizen_ref: str, excluding: UUID, first_day: date, last_day: date
    ) -> tuple[CitizenPlacement, ...]:
        """The citizen's other applications pending, running or run within a period: one placement at a time."""
        rows = await self._conn.fetch(
            """SELECT id, scheme, starts_on, ends_on FROM applications
               WHERE aggregate->>'citizen_ref' = $1 AND id <> $2 AND state = ANY($3::text[])
                 AND starts_on <= $5 AND ends_on >= $4""",
            citizen_ref,
            excluding,
            [state.value for state in PLACED_STATES],
            first_day,
            last_day,
        )
        return tuple(CitizenPlacement(r["id"], Scheme(r["scheme"]), r["starts_on"], r["ends_on"]) for r in rows)

    async def claim_idempotency_key(
        self, employer_cvr: str, key: str, fingerprint: str, application_id: UUID
    ) -> IdempotencyKey | None:
        """Claim `key` for this submission; if it was used before, return its first use (after that one commits)."""
        row = await self._first_claim(
            """INSERT INTO idempotency_keys (employer_cvr, key, fingerprint, application_id) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING RETURNING true""",
            (employer_cvr, key, fingerprint, application_id),
            "SELECT fingerprint, application_id FROM idempotency_keys WHERE employer_cvr = $1 AND key = $2",
            (employer_cvr, key),
        )
        return None if row is None else IdempotencyKey(row["fingerprint"], row["application_id"])

    async def claim_signed_payload(
        self, payload_sha256: str, application_id: UUID, purpose: str
    ) -> SignedPayload | None:
        """Claim a signed document for this use; if it was used before, return that use (after it commits)."""
        row = await self._first_claim(
            """INSERT INTO signed_payloads (payload_sha256, application_id, purpose) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING RETURNING true""",
            (payload_sha256, application_id, purpose),
            "SELECT application_id, purpose FROM signed_payloads WHERE payload_sha256 = $1",
            (payload_sha256,),
        )
        return None if row is None else SignedPayload(row["application_id"], row["purpose"])

    async def _first_claim(
        self, insert: str, insert_args: tuple[object, ...], select: str, select_args: tuple[object, ...]
    ) -> asyncpg.Record | None:
        """None once `insert` claims a unique key; else the row `select` finds of the claim that came first.

        The insert waits for a concurrent claim of the same key to commit or roll back; the select is a statement of
        its own, so that its snapshot sees the claim that won.
        """
        if await self._conn.fetchval(insert, *insert_args):
            return None
        return await self._conn.fetchrow(select, *select_args)

    async def point_idempotency_key(self, employer_cvr: str, key: str, application_id: UUID) -> None:
        """Let a key claimed in this transaction name the application a replayed signature already made."""
        await self._conn.execute(
            "UPDATE idempotency_keys SET application_id = $3 WHERE employer_cvr = $1 AND key = $2",
            employer_cvr,
            key,
            application_id,
        )

    async def add_signature(
        self,
        application_id: UUID,
        purpose: str,
        signature: VerifiedSignature,
        received_at: datetime,
        citizen_ref: str | None = None,
    ) -> None:
        """Keep a signature as evidence, exactly as received; one whose document names a citizen (`citizen_ref`) sealed
        under that citizen's data key, so erasing the citizen makes it unreadable."""
        sealed = (
            None
            if citizen_ref is None
            else await shredding.seal(self._conn, self._keys, citizen_ref, signature.jws.encode())
        )
        await self._conn.execute(
            """INSERT INTO signatures (application_id, purpose, jws, citizen_ref, jws_sealed, signer, cert_serial,
                                       fingerprint, alg, signed_at, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            application_id,
            purpose,
            signature.jws if sealed is None else None,
            citizen_ref,
            sealed,
            signature.signer,
            Decimal(signature.cert_serial),
            signature.fingerprint,
            signature.alg,
            signature.signed_at,
            received_at,
        )

    async def erase_citizen(self, erasure: shredding.Erasure) -> tuple[UUID, datetime]:
        """Destroy the citizen's data key, so the signed documents naming them can no longer be opened; erasing again
        tells the first erasure (its id and time)."""
        first = await shredding.erase(self._conn, erasure)
        await self._shred_clear_evidence(erasure.citizen_ref)
        return first

    async def _shred_clear_evidence(self, citizen_ref: str) -> int:
        """For an erased citizen: the signed documents naming them that were kept as received (before data keys) sealed
        under a key nobody keeps, so they are gone like the others; how many there were."""
        rows = await self._conn.fetch(
            """SELECT s.application_id, s.purpose, s.jws
               FROM signatures s JOIN applications a ON a.id = s.application_id
               WHERE s.jws IS NOT NULL AND s.purpose IN ('application', 'citizen_named')
                 AND a.aggregate ->> 'citizen_ref' = $1
               FOR UPDATE OF s""",
            citizen_ref,
        )
        await self._conn.executemany(
            """UPDATE signatures SET jws = NULL, citizen_ref = $3, jws_sealed = $4
               WHERE application_id = $1 AND purpose = $2""",
            [
                (
                    row["application_id"],
                    row["purpose"],
                    citizen_ref,
                    shredding.seal_forgotten(citizen_ref, row["jws"].encode()),
                )
                for row in rows
            ],
        )
        return len(rows)

    async def signature(self, application_id: UUID, purpose: str) -> str | None:
        """The stored JWS of a signature, as received; raises `KeyDestroyed` for a citizen's erased evidence."""
        row = await self._conn.fetchrow(
            "SELECT jws, citizen_ref, jws_sealed FROM signatures WHERE application_id = $1 AND purpose = $2",
            application_id,
            purpose,
        )
        if row is None or row["jws_sealed"] is None:
            return None if row is None else row["jws"]
        return (await shredding.unseal(self._conn, self._keys, row["citizen_ref"], row["jws_sealed"])).decode()

    async def add_wage_report(self, application_id: UUID, report: WageReport) -> None:
        await self._conn.execute(
            """INSERT INTO wage_reports (report_id, application_id, period_start, period_end, paid_hours,
                                         wage_costs_ore, sickness_refunds_ore, submitted_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            report.report_id,
            application_id,
            report.period_start,
            report.period_end,
            report.paid_hours,
            report.wage_costs_ore,
            report.sickness_refunds_ore,
            report.submitted_at,
        )

    async def wage_reports(self, application_id: UUID) -> list[WageReport]:
        rows = await self._conn.fetch(
            """SELECT report_id, period_start, period_end, paid_hours, wage_costs_ore, sickness_refunds_ore,
                      submitted_at FROM wage_reports WHERE application_id = $1 ORDER BY period_start, submitted_at""",
            application_id,
        )
        return [WageReport(**dict(row)) for row in rows]


async def case_trace(conn: asyncpg.Connection, application_id: UUID) -> str | None:
    """The `traceparent` of the application's submission (None: unknown application, or submitted untraced)."""
    found: str | None = await conn.fetchval("SELECT traceparent FROM applications WHERE id = $1", application_id)
    return found


async def claim_due(conn: asyncpg.Connection, now: datetime, skip: Sequence[UUID]) -> UUID | None:
    """The application with the oldest passed deadline, locked for the caller's transaction, but none another
    transaction holds (a replica's timer handling it) nor one of `skip`."""
    return await conn.fetchval(
        """SELECT id FROM applications WHERE deadline_at <= $1 AND id <> ALL($2::uuid[])
           ORDER BY deadline_at LIMIT 1 FOR UPDATE SKIP LOCKED""",
        now,
        list(skip),
    )


async def claim_past_planned_end(conn: asyncpg.Connection, today: date, skip: Sequence[UUID]) -> UUID | None:
    """The confirmed placement longest past its planned last day, locked as `claim_due` locks."""
    return await conn.fetchval(
        """SELECT id FROM applications WHERE state = 'confirmed' AND ends_on < $1 AND id <> ALL($2::uuid[])
           ORDER BY ends_on LIMIT 1 FOR UPDATE SKIP LOCKED""",
        today,
        list(skip),
    )


_HISTORY_INSERT = """
    INSERT INTO application_history (application_id, seq, at, action, actor, state, note)
    SELECT $1, coalesce((SELECT max(seq) FROM application_history WHERE application_id = $1), 0) + change.n,
           change.at, change.action, change.actor, change.state, change.note
    FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
         AS change (at, action, actor, state, note, n)"""
"""The application's new changes after the lines it has ($1 to $6 from `_history_arguments`); the caller holds
the application's row lock, or has just made the row, so no one else numbers its lines meanwhile."""


def _history_arguments(application: Application) -> tuple[object, ...]:
    changes = application.changes
    return (
        application.id,
        [c.at for c in changes],
        [c.action for c in changes],
        [c.actor for c in changes],
        [c.state.value for c in changes],
        [c.note for c in changes],
    )


def _aggregate_json(application: Application) -> str:
    """The aggregate as JSON text (cast to jsonb in SQL): pydantic writes it faster than `json.dumps` would."""
    return _AGGREGATE.dump_json(application, exclude=_EXCLUDED).decode()
