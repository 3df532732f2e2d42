"""Events of the activation service: the citizen's plan (Min Plan) and conflicts with it.

All travel on `activation.plans.v1`, keyed by `citizen_ref`: a plan belongs to one citizen, so a check and
the entries it weighed stay in order.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from contracts.common import WEEKLY_HOURS_EXAMPLE, CitizenRef, Cvr, Period, PNumber, Scheme, Value, WeeklyHours
from contracts.envelope import Event

TOPIC = "activation.plans.v1"

_APPLICATION_ID = "3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90"
_ACTIVATION_ID = "8e0a2c4e-6f8b-4d0f-a2c4-6e8a0c2e4f6b"
_PERIOD = {"start": "2026-03-02", "end": "2026-05-29"}


class PlanEvent(Event):
    """An event about one citizen's plan; the citizen reference is the record key."""

    topic: ClassVar[str] = TOPIC
    key_field: ClassVar[str] = "citizen_ref"

    citizen_ref: CitizenRef


class ConflictKind(StrEnum):
    """How an application collides with the citizen's plan."""

    OVERLAPPING_PERIOD = "overlapping_period"
    """The period shares a day with an entry of the citizen's plan."""
    OVERLAPPING_APPLICATION = "overlapping_application"
    """The period shares a day with another application for the citizen that is still being decided."""
    RECENT_EMPLOYER = "recent_employer"
    """An internship at the employer of the citizen's latest wage-subsidy job."""


class Conflict(Value):
    """One plan entry that collides with an application."""

    kind: ConflictKind = Field(description="How it collides.", examples=["overlapping_period"])
    activation_id: UUID = Field(
        description="The plan entry it collides with; for a pending application, the entry it would become.",
        examples=[_ACTIVATION_ID],
    )
    application_id: UUID | None = Field(
        default=None,
        description="The application behind that entry; null only in events published before this field existed.",
        examples=["5d1b3f7a-9c2e-4a6b-8d0f-1e3a5c7b9d2f"],
    )
    scheme: Scheme = Field(description="That entry's scheme.", examples=["internship"])
    period: Period = Field(description="That entry's period.", examples=[{"start": "2026-02-02", "end": "2026-03-13"}])
    description: str = Field(
        min_length=1,
        description="The conflict in words a caseworker understands.",
        examples=["Virksomhedspraktik 2026-02-02 til 2026-03-13 overlapper"],
    )


class ActivationChecked(PlanEvent):
    """Activation compared an application with the citizen's plan; no conflicts means it fits."""

    type: ClassVar[str] = "dk.jobbro.activation.activation-checked.v1"

    application_id: UUID = Field(description="The application checked.", examples=[_APPLICATION_ID])
    conflicts: tuple[Conflict, ...] = Field(
        description="Every conflict found; empty when the application fits the plan.",
        examples=[
            [
                {
                    "kind": "overlapping_period",
                    "activation_id": _ACTIVATION_ID,
                    "scheme": "internship",
                    "period": {"start": "2026-02-02", "end": "2026-03-13"},
                    "description": "Virksomhedspraktik 2026-02-02 til 2026-03-13 overlapper",
                }
            ]
        ],
    )
    rule_set_version: str | None = Field(
        default=None,
        min_length=1,
        description="The version of the plan-check rules the application was checked with (in force on its start "
        "date); null when none was in force then (only overlaps were checked), or in events published before this "
        "field existed.",
        examples=["plan-checks-2018.1"],
    )


class ActivationRecorded(PlanEvent):
    """A confirmed placement was written into the citizen's plan, as reported to the national data hub.

    Published again with the same `activation_id` whenever the entry's period or hours change: the latest
    one states the entry's current terms.
    """

    type: ClassVar[str] = "dk.jobbro.activation.activation-recorded.v1"

    activation_id: UUID = Field(description="Identifies the plan entry.", examples=[_ACTIVATION_ID])
    application_id: UUID = Field(description="The placement recorded.", examples=[_APPLICATION_ID])
    scheme: Scheme = Field(description="The scheme of the offer.", examples=["wage_subsidy_private"])
    period: Period = Field(description="Period of the offer.", examples=[_PERIOD])
    weekly_hours: WeeklyHours = Field(description="Weekly hours, as steps.", examples=[WEEKLY_HOURS_EXAMPLE])
    employment_goal: str = Field(min_length=1, description="The employment goal.", examples=["Job som VVS-assistent"])
    employer_cvr: Cvr = Field(description="CVR number of the employer.", examples=["12345678"])
    production_unit: PNumber = Field(description="P-number of the workplace.", examples=["1012345678"])
    employer_name: str = Field(min_length=1, description="The employer's registered name.", examples=["Hansen VVS ApS"])


class ActivationOutcome(StrEnum):
    """How a plan entry ended."""

    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"
    CANCELLED = "cancelled"


class ActivationEnded(PlanEvent):
    """A plan entry ended: it ran its course, stopped early, or was cancelled before it began."""

    type: ClassVar[str] = "dk.jobbro.activation.activation-ended.v1"

    activation_id: UUID = Field(description="The plan entry that ended.", examples=[_ACTIVATION_ID])
    application_id: UUID = Field(description="The placement it recorded.", examples=[_APPLICATION_ID])
    last_day: date = Field(description="Last day of the activation.", examples=["2026-05-15"])
    outcome: ActivationOutcome = Field(description="How it ended.", examples=["ended_early"])


EVENTS: tuple[type[Event], ...] = (ActivationChecked, ActivationRecorded, ActivationEnded)
