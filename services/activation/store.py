"""The plan's tables: every write and the reads handlers need, behind the `Plans` port (PostgreSQL: `PgPlans`, on
the caller's connection; tests: an in-memory fake)."""

from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from services.activation.domain import Application, ApplicationState, Assessment, HoursStep, Outcome, PlanEntry
from services.activation.rules import Period


class Plans(Protocol):
    """What activation's handlers read and write of citizens' plans (one contract suite holds every implementation)."""

    async def lock_plan(self, citizen_ref: str, birth_date: date | None = None) -> None: ...
    async def forget_birth_date(self, citizen_ref: str) -> None: ...
    async def add_application(self, citizen_ref: str, application: Application) -> bool: ...
    async def pending_applications(self, citizen_ref: str) -> list[Application]: ...
    async def close_application(self, application_id: UUID, state: ApplicationState) -> bool: ...
    async def plan_entries(self, citizen_ref: str) -> list[PlanEntry]: ...
    async def entry_for_update(self, application_id: UUID) -> PlanEntry | None: ...
    async def add_entry(self, entry: PlanEntry) -> bool: ...
    async def save_entry(self, entry: PlanEntry) -> None: ...
    async def park(self, application_id: UUID, event_type: str, payload: dict[str, Any]) -> None: ...
    async def take_parked(self, application_id: UUID) -> list[tuple[str, dict[str, Any]]]: ...
    async def add_assessment(self, assessment: Assessment) -> None: ...


class PgPlans:
    """The plans in PostgreSQL, inside the unit of work's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock_plan(self, citizen_ref: str, birth_date: date | None = None) -> None:
        """Lock the citizen's row (creating it if new) before publishing about their plan: keeps per-key order."""
        await self._conn.execute(
            """INSERT INTO citizens (citizen_ref, birth_date) VALUES ($1, $2) ON CONFLICT (citizen_ref)
               DO UPDATE SET birth_date = coalesce(EXCLUDED.birth_date, citizens.birth_date)""",
            citizen_ref,
            birth_date,
        )

    async def forget_birth_date(self, citizen_ref: str) -> None:
        """An erased citizen's birth date (read from a CPR number, or the registry) is kept no longer."""
        await self._conn.execute("UPDATE citizens SET birth_date = NULL WHERE citizen_ref = $1", citizen_ref)

    async def add_application(self, citizen_ref: str, application: Application) -> bool:
        """Keep a submitted application as pending; False if it was already known."""
        inserted = await self._conn.fetchval(
            """INSERT INTO applications
                   (application_id, citizen_ref, scheme, period_start, period_end, employer_cvr, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id) DO NOTHING RETURNING true""",
            application.application_id,
            citizen_ref,
            application.scheme,
            application.period.start,
            application.period.end,
            application.employer_cvr,
            ApplicationState.PENDING,
        )
        return bool(inserted)

    async def pending_applications(self, citizen_ref: str) -> list[Application]:
        rows = await self._conn.fetch(
            """SELECT application_id, scheme, period_start, period_end, employer_cvr FROM applications
               WHERE citizen_ref = $1 AND status = $2""",
            citizen_ref,
            ApplicationState.PENDING,
        )
        return [
            Application(
                row["application_id"],
                row["scheme"],
                Period(row["period_start"], row["period_end"]),
                row["employer_cvr"],
            )
            for row in rows
        ]

    async def close_application(self, application_id: UUID, state: ApplicationState) -> bool:
        """Mark an application as no longer pending; False if it was never submitted here."""
        found = await self._conn.fetchval(
            "UPDATE applications SET status = $2 WHERE application_id = $1 RETURNING true", application_id, state
        )
        return bool(found)

    async def plan_entries(self, citizen_ref: str) -> list[PlanEntry]:
        rows = await self._conn.fetch(
            f"{_ENTRY} WHERE citizen_ref = $1 ORDER BY period_start, activation_id", citizen_ref
        )
        return [_entry_from_row(row) for row in rows]

    async def entry_for_update(self, application_id: UUID) -> PlanEntry | None:
        row = await self._conn.fetchrow(f"{_ENTRY} WHERE application_id = $1 FOR UPDATE", application_id)
        return _entry_from_row(row) if row else None

    async def add_entry(self, entry: PlanEntry) -> bool:
        """Write a new plan entry; False if the placement already has one (a confirmation delivered again)."""
        inserted = await self._conn.fetchval(
            """INSERT INTO plan_entries
                   (application_id, activation_id, citizen_ref, scheme, period_start, planned_end, weekly_hours,
                    employment_goal, employer_cvr, production_unit, employer_name)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (application_id) DO NOTHING RETURNING true""",
            entry.application_id,
            entry.activation_id,
            entry.citizen_ref,
            entry.scheme,
            entry.start,
            entry.planned_end,
            _hours_json(entry.weekly_hours),
            entry.employment_goal,
            entry.employer_cvr,
            entry.production_unit,
            entry.employer_name,
        )
        return bool(inserted)

    async def save_entry(self, entry: PlanEntry) -> None:
        """Store what an update may change: the planned end, the hours, and the end."""
        await self._conn.execute(
            """UPDATE plan_entries
               SET planned_end = $2, weekly_hours = $3, last_day = $4, outcome = $5, updated_at = now()
               WHERE application_id = $1""",
            entry.application_id,
            entry.planned_end,
            _hours_json(entry.weekly_hours),
            entry.last_day,
            entry.outcome,
        )

    async def park(self, application_id: UUID, event_type: str, payload: dict[str, Any]) -> None:
        """Keep an update that came before its placement's confirmation."""
        await self._conn.execute(
            "INSERT INTO parked_updates (application_id, event_type, payload) VALUES ($1, $2, $3)",
            application_id,
            event_type,
            payload,
        )

    async def take_parked(self, application_id: UUID) -> list[tuple[str, dict[str, Any]]]:
        """Remove and return the placement's parked updates, oldest first."""
        rows = await self._conn.fetch(
            "DELETE FROM parked_updates WHERE application_id = $1 RETURNING id, event_type, payload", application_id
        )
        return [(row["event_type"], row["payload"]) for row in sorted(rows, key=lambda row: row["id"])]

    async def add_assessment(self, assessment: Assessment) -> None:
        await self._conn.execute(
            """INSERT INTO assessments
                   (assessment_id, citizen_ref, application_id, assessed_on, target_group, unemployed_weeks,
                    has_qualifying_education, municipality_code, unemployed_since)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (assessment_id) DO NOTHING""",
            assessment.assessment_id,
            assessment.citizen_ref,
            assessment.application_id,
            assessment.assessed_on,
            assessment.target_group,
            assessment.unemployed_weeks,
            assessment.has_qualifying_education,
            assessment.municipality_code,
            assessment.unemployed_since,
        )


_ENTRY = """SELECT activation_id, application_id, citizen_ref, scheme, period_start, planned_end, weekly_hours,
                   employment_goal, employer_cvr, production_unit, employer_name, last_day, outcome
            FROM plan_entries"""


def _entry_from_row(row: asyncpg.Record) -> PlanEntry:
    return PlanEntry(
        activation_id=row["activation_id"],
        application_id=row["application_id"],
        citizen_ref=row["citizen_ref"],
        scheme=row["scheme"],
        start=row["period_start"],
        planned_end=row["planned_end"],
        weekly_hours=tuple(
            HoursStep(date.fromisoformat(step["from_date"]), Decimal(step["hours_per_week"]))
            for step in row["weekly_hours"]
        ),
        employment_goal=row["employment_goal"],
        employer_cvr=row["employer_cvr"],
        production_unit=row["production_unit"],
        employer_name=row["employer_name"],
        last_day=row["last_day"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
    )


def _hours_json(steps: tuple[HoursStep, ...]) -> list[dict[str, str]]:
    return [{"from_date": step.from_date.isoformat(), "hours_per_week": str(step.hours_per_week)} for step in steps]
