"""Value types shared by the events of every service: periods, schemes, money, hours, rule results.

Money is integer øre in fields named `*_ore`, dates are `date`, and hours are `Decimal` sent as strings with
two decimals, so no consumer ever rounds a float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

PERSONAL_DATA_KEY = "x-personal-data"


class PersonalData(StrEnum):
    """Why a field is personal data: the value of its `x-personal-data` schema keyword."""

    CPR = "cpr"
    """The civil registration number: a direct identifier, only where the consumer must act on the person."""
    PSEUDONYM = "pseudonym"
    """A citizen reference: personal data, but identifying only together with Jobbro's own records."""
    CONTACT = "contact"
    """A natural person's name or e-mail address."""
    SENSITIVE = "sensitive"
    """A fact about a citizen's social situation: benefit, target group, unemployment."""
    IDENTITY = "identity"
    """A fact that, with little else, singles the citizen out: the birth date (the CPR number's first half)."""
    SEALED = "sealed"
    """Personal data sealed for one reader under a citizen's key that only it is given: opened by nobody else, and by
    nobody once the key is destroyed (a payee's CPR number, the payee key itself). Never for integrators."""


def personal(kind: PersonalData) -> dict[str, Any]:
    """The `json_schema_extra` that marks a field as personal data in the schemas and the catalog."""
    return {PERSONAL_DATA_KEY: kind.value}


class Value(BaseModel):
    """Base of nested values: frozen and strict like the events that carry them."""

    model_config = ConfigDict(frozen=True, extra="forbid")


CitizenRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="Pseudonymous reference to the citizen, the same in every event about them.",
        examples=["c-5f2b7e0a9d134c68"],
        json_schema_extra=personal(PersonalData.PSEUDONYM),
    ),
]
"""Opaque citizen reference that subsidy issues for a CPR number; every field of this type is marked."""
Cpr = Annotated[str, Field(pattern=r"^\d{10}$", json_schema_extra=personal(PersonalData.CPR))]
"""A CPR number; every field of this type is marked, so the catalog can check where CPR numbers travel."""
Cvr = Annotated[str, Field(pattern=r"^\d{8}$")]
PNumber = Annotated[str, Field(pattern=r"^\d{10}$")]
Ore = Annotated[int, Field(ge=0)]


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


Hours = Annotated[
    Decimal,
    Field(ge=0, max_digits=5, decimal_places=2, json_schema_extra={"pattern": r"^\d{1,3}\.\d{2}$"}),
    AfterValidator(_two_places),
]
"""Hours as an exact decimal; on the wire a string with two decimals, e.g. `"37.00"`."""
Fte = Annotated[
    Decimal,
    Field(ge=0, max_digits=7, decimal_places=2, json_schema_extra={"pattern": r"^\d{1,5}\.\d{2}$"}),
    AfterValidator(_two_places),
]
"""Full-time equivalents as an exact decimal; on the wire a string with two decimals, e.g. `"12.00"`."""


class Language(StrEnum):
    """The language a person is written to in; Danish unless they chose otherwise."""

    DA = "da"
    EN = "en"


class Scheme(StrEnum):
    """The subsidised-employment schemes Jobbro handles."""

    INTERNSHIP = "internship"
    WAGE_SUBSIDY_PRIVATE = "wage_subsidy_private"
    WAGE_SUBSIDY_PUBLIC = "wage_subsidy_public"


class Period(Value):
    """A closed period of whole days; both ends are included."""

    start: date = Field(description="First day of the period.", examples=["2026-03-02"])
    end: date = Field(description="Last day of the period, included.", examples=["2026-05-29"])

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("period ends before it starts")
        return self


class OpenPeriod(Value):
    """A period that may still be running: no end means until further notice."""

    start: date = Field(description="First day of the period.", examples=["2026-03-02"])
    end: date | None = Field(
        description="Last day of the period, included; null while it has no known end.", examples=["2026-05-29"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> OpenPeriod:
        if self.end is not None and self.end < self.start:
            raise ValueError("period ends before it starts")
        return self


class HoursStep(Value):
    """One step of a weekly-hours schedule: from this day on, this many hours a week."""

    from_date: date = Field(description="First day these weekly hours apply.", examples=["2026-03-02"])
    hours_per_week: Hours = Field(
        gt=0, description="Hours a week from `from_date` until the next step or the end.", examples=["15.00"]
    )


def _ascending(steps: tuple[HoursStep, ...]) -> tuple[HoursStep, ...]:
    if any(later.from_date <= earlier.from_date for earlier, later in pairwise(steps)):
        raise ValueError("weekly-hours steps must have strictly ascending from_date")
    return steps


WeeklyHours = Annotated[tuple[HoursStep, ...], Field(min_length=1), AfterValidator(_ascending)]
"""Weekly hours as steps, so hours that step up during an internship need no new grant."""

WEEKLY_HOURS_EXAMPLE = [
    {"from_date": "2026-03-02", "hours_per_week": "15.00"},
    {"from_date": "2026-03-30", "hours_per_week": "30.00"},
]


class RuleResult(Value):
    """The outcome of one eligibility rule, with the version of the rule data it was evaluated with."""

    rule: str = Field(min_length=1, description="Rule identifier from the rule data.", examples=["ratio"])
    passed: bool = Field(description="Whether the rule holds.", examples=[True])
    reason: str = Field(
        description="Why it holds or fails, in words a caseworker and an employer understand.",
        examples=["1 of 2 allowed placements at P-number 1012345678 (12.00 FTE)"],
    )
    rule_set_version: str = Field(
        min_length=1,
        description="Version (effective date) of the rule data the rule was evaluated with.",
        examples=["2026-01-01"],
    )


class FactSource(StrEnum):
    """Where a fact a rule read came from."""

    EMPLOYER = "employer"
    SUBSIDY = "subsidy"
    BENEFITS = "benefits"
    ACTIVATION = "activation"
    CASEWORKER = "caseworker"
    RULE = "rule"


class RuleOutcome(StrEnum):
    """What one rule said."""

    PASSED = "passed"
    FAILED = "failed"
    NEEDS_JUDGEMENT = "needs_judgement"
    WARNING = "warning"


class DerivedFact(Value):
    """One fact a rule read: its name, its value (none for a fact about the citizen), its source and its event."""

    name: str = Field(min_length=1, description="The fact's name.", examples=["ordinary_fte"])
    value: str | None = Field(
        description="The fact as text; null where it is about the citizen (events never carry it).", examples=["20"]
    )
    source: FactSource = Field(description="Where the fact came from.", examples=["employer"])
    event_id: UUID | None = Field(
        description="The id of the event that brought the fact, if an event did.",
        examples=["6f1c1b1e-9a57-4c49-9b53-1e1b2a8f4c11"],
    )


class RuleDerivation(Value):
    """How one rule's result came about: the rule, its version and legal reference, its outcome, its facts."""

    rule: str = Field(min_length=1, description="Rule identifier.", examples=["ratio"])
    outcome: RuleOutcome = Field(description="What the rule said.", examples=["passed"])
    rule_set_version: str = Field(min_length=1, description="The rule data's version.", examples=["ratio-2018.1"])
    legal_reference: str | None = Field(
        description="The act and paragraph the rule applies, where the rule data names them.",
        examples=["kapitel 11 og 12, rimelighedskravet, Lov om en aktiv beskæftigelsesindsats"],
    )
    evaluated_by: str = Field(description="The service (or caseworker) that evaluated it.", examples=["subsidy"])
    facts: tuple[DerivedFact, ...] = Field(
        description="Every fact the rule read.",
        examples=[[{"name": "ordinary_fte", "value": "20", "source": "employer", "event_id": None}]],
    )


_EVENT_ID_EXAMPLE = "6f1c1b1e-9a57-4c49-9b53-1e1b2a8f4c11"
DERIVATION_EXAMPLE = {
    "rule": "ratio",
    "outcome": "passed",
    "rule_set_version": "ratio-2018.1",
    "legal_reference": "kapitel 11 og 12, rimelighedskravet, Lov om en aktiv beskæftigelsesindsats",
    "evaluated_by": "subsidy",
    "facts": [
        {
            "name": "ordinary_fte",
            "value": "20",
            "source": "employer",
            "event_id": "6f1c1b1e-9a57-4c49-9b53-1e1b2a8f4c11",
        },
        {"name": "allowed_placements", "value": "4", "source": "rule", "event_id": None},
    ],
}


RULE_RESULT_EXAMPLE = {
    "rule": "ratio",
    "passed": True,
    "reason": "1 of 2 allowed placements at P-number 1012345678 (12.00 FTE)",
    "rule_set_version": "2026-01-01",
}
