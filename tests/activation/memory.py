"""The `Plans` port in memory, for the handlers' unit tests; `plans_contract.py` holds it to what PostgreSQL does."""

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from services.activation.domain import Application, ApplicationState, Assessment, PlanEntry


class InMemoryPlans:
    """Citizens' plans in dictionaries; entries are copied in and out, as rows are."""

    def __init__(self) -> None:
        self.birth_dates: dict[str, date | None] = {}
        self.assessments: dict[UUID, Assessment] = {}
        self._applications: dict[UUID, tuple[str, Application, ApplicationState]] = {}
        self._entries: dict[UUID, PlanEntry] = {}
        self._parked: dict[UUID, list[tuple[str, dict[str, Any]]]] = {}

    async def lock_plan(self, citizen_ref: str, birth_date: date | None = None) -> None:
        self.birth_dates[citizen_ref] = birth_date or self.birth_dates.get(citizen_ref)

    async def forget_birth_date(self, citizen_ref: str) -> None:
        if citizen_ref in self.birth_dates:
            self.birth_dates[citizen_ref] = None

    async def add_application(self, citizen_ref: str, application: Application) -> bool:
        if application.application_id in self._applications:
            return False
        self._applications[application.application_id] = (citizen_ref, application, ApplicationState.PENDING)
        return True

    async def pending_applications(self, citizen_ref: str) -> list[Application]:
        return [
            application
            for owner, application, state in self._applications.values()
            if owner == citizen_ref and state is ApplicationState.PENDING
        ]

    async def close_application(self, application_id: UUID, state: ApplicationState) -> bool:
        if application_id not in self._applications:
            return False
        owner, application, _state = self._applications[application_id]
        self._applications[application_id] = (owner, application, state)
        return True

    async def plan_entries(self, citizen_ref: str) -> list[PlanEntry]:
        entries = [replace(e) for e in self._entries.values() if e.citizen_ref == citizen_ref]
        return sorted(entries, key=lambda e: (e.start, e.activation_id))

    async def entry_for_update(self, application_id: UUID) -> PlanEntry | None:
        entry = self._entries.get(application_id)
        return replace(entry) if entry else None

    async def add_entry(self, entry: PlanEntry) -> bool:
        if entry.application_id in self._entries:
            return False
        self._entries[entry.application_id] = replace(entry)
        return True

    async def save_entry(self, entry: PlanEntry) -> None:
        if (stored := self._entries.get(entry.application_id)) is not None:
            self._entries[entry.application_id] = replace(
                stored,
                planned_end=entry.planned_end,
                weekly_hours=entry.weekly_hours,
                last_day=entry.last_day,
                outcome=entry.outcome,
            )

    async def park(self, application_id: UUID, event_type: str, payload: dict[str, Any]) -> None:
        self._parked.setdefault(application_id, []).append((event_type, payload))

    async def take_parked(self, application_id: UUID) -> list[tuple[str, dict[str, Any]]]:
        return self._parked.pop(application_id, [])

    async def add_assessment(self, assessment: Assessment) -> None:
        self.assessments.setdefault(assessment.assessment_id, assessment)
