"""Plan entries and applications for the unit tests: March 2026 by default, random ids."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from services.activation.domain import Application, HoursStep, PlanEntry, activation_id_for
from services.activation.rules import Period


def march(day: int) -> date:
    return date(2026, 3, day)


def entry(start: date, end: date, **changes: Any) -> PlanEntry:
    application_id = uuid4()
    terms: dict[str, Any] = {
        "activation_id": activation_id_for(application_id),
        "application_id": application_id,
        "citizen_ref": "c-0123456789abcdef",
        "scheme": "internship",
        "start": start,
        "planned_end": end,
        "weekly_hours": (HoursStep(start, Decimal("15.00")),),
        "employment_goal": "Job som VVS-assistent",
        "employer_cvr": "12345678",
        "production_unit": "1012345678",
        "employer_name": "Hansen VVS ApS",
    }
    return PlanEntry(**(terms | changes))


def application(start: date, end: date | None, scheme: str = "internship", cvr: str = "87654321") -> Application:
    return Application(uuid4(), scheme, Period(start, end), cvr)
