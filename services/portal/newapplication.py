"""The employer's application, asked one topic per step: its fields, each step's checks, and the document they make.

The fields are named by their path in the subsidy API's `ApplicationForm` (`employer.production_unit`), so the
API's validation problems (`location` … `employer`, `production_unit`) come back to the field, and so to the step,
they concern. The draft between the steps is a plain dict of what was typed, kept in the portal's session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from services.portal import labels
from services.portal.labels import N_


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: str = "text"
    hint: str | None = None
    optional: bool = False
    options: Mapping[str, str] | None = None
    """A radio group's choices (value → label)."""

    @property
    def id(self) -> str:
        """The input's id, and the error summary's target: a radio group's first choice."""
        first = f"-{next(iter(self.options))}" if self.options else ""
        return self.path.replace(".", "-") + first


SCHEMES = ("internship", "wage_subsidy_private", "wage_subsidy_public")
"""The schemes the form applies for; a wage subsidy adds wage, wage costs and headcounts, an internship a purpose."""
TITLES = {
    "internship": N_("Apply for an internship"),
    "wage_subsidy_private": N_("Apply for a wage subsidy, private employer"),
    "wage_subsidy_public": N_("Apply for a wage subsidy, public employer"),
}
SCHEME = Field(
    "scheme",
    N_("What do you apply for?"),
    "radio",
    options=MappingProxyType({scheme: labels.SCHEMES[scheme] for scheme in SCHEMES}),
)
APPLIES_FOR = Field(
    "applies_for",
    N_("For whom?"),
    "radio",
    options=MappingProxyType(
        {
            "citizen": N_("A citizen we name now"),
            "position": N_("A position: we name the citizen once the jobcentre has approved it"),
        }
    ),
)
CITIZEN = (
    Field("citizen.cpr", N_("The citizen's CPR number"), hint=N_("10 digits, without a dash.")),
    Field("citizen.consent_reference", N_("Reference to the citizen's consent")),
)
POSITION = (
    Field("position_title", N_("Position")),
    Field("tasks", N_("Tasks"), "textarea"),
    Field("employment_goal", N_("Employment goal")),
)
PURPOSE = Field("purpose", N_("Purpose of the internship"), "radio", options=labels.PURPOSES)
WORKPLACE = (
    Field("employer.name", N_("Company name")),
    Field(
        "employer.email",
        N_("E-mail for the decision"),
        "email",
        N_("Optional: without it, the decision comes by Digital Post."),
        optional=True,
    ),
    Field("employer.production_unit", N_("P-number of the workplace"), hint=N_("10 digits.")),
    Field("employer.workplace", N_("Address of the workplace")),
    Field("employer.company_employees", N_("Employees in the company"), "number"),
    Field(
        "employer.ordinary_employees_fte",
        N_("Ordinary employees at the workplace (full-time equivalents)"),
        hint=N_("For example 4.5."),
    ),
    Field("municipality", N_("Municipality code of the jobcentre"), hint=N_("3 digits, for example 751 for Aarhus.")),
)
STEP_UPS = (
    (N_("First step up: from"), N_("First step up: hours a week")),
    (N_("Second step up: from"), N_("Second step up: hours a week")),
    (N_("Third step up: from"), N_("Third step up: hours a week")),
)
"""The times the weekly hours may step up during the period, as the form offers them: each a day and the hours."""
PERIOD = (
    Field("period.start", N_("First day"), "date"),
    Field("period.end", N_("Last day"), "date"),
    Field("hours", N_("Hours a week"), hint=N_("From the first day. At most 37.")),
    *(
        field
        for number, (day, hours) in enumerate(STEP_UPS, start=1)
        for field in (
            Field(
                f"hours_up.{number}.from_date",
                day,
                "date",
                N_("Optional: the day the weekly hours step up."),
                optional=True,
            ),
            Field(f"hours_up.{number}.hours", hours, optional=True),
        )
    ),
)
WAGE_FIELDS = (
    Field("wage.hourly_wage_ore", N_("Hourly wage (kr.)"), hint=N_("For example 160,00.")),
    Field(
        "wage.hourly_wage_costs_ore",
        N_("Wage costs per paid hour (kr.)"),
        hint=N_("Wage, pension and holiday pay together, for example 195,00."),
    ),
    Field(
        "employer.headcounts_fte",
        N_("Ordinary employees in each of the last 12 months (full-time equivalents)"),
        hint=N_("Oldest month first, separated by spaces, for example 4 4 4,5 5."),
        optional=True,
    ),
)
REPRESENTATIVE = (
    Field(
        "representative.name",
        N_("The employee representative's name"),
        hint=N_("Needed when the company has more than one employee."),
        optional=True,
    ),
    Field("representative.email", N_("The employee representative's e-mail"), "email", optional=True),
)


@dataclass(frozen=True)
class FormStep:
    """One page of the form: one topic, its fields."""

    name: str
    title: str
    lead: str
    fields: tuple[Field, ...]


STEPS = (
    FormStep(
        "scheme", N_("Scheme"), N_("Choose the scheme, and whether you name the citizen now."), (SCHEME, APPLIES_FOR)
    ),
    FormStep(
        "citizen", N_("Citizen and position"), N_("Who, and the job they will do."), (*CITIZEN, *POSITION, PURPOSE)
    ),
    FormStep("workplace", N_("Workplace"), N_("Your company and the workplace (P-number)."), WORKPLACE),
    FormStep("period", N_("Period and hours"), N_("When, and how many hours a week, also if they step up."), PERIOD),
    FormStep("wage", N_("Wage and headcounts"), N_("The wage, the wage costs and your headcounts."), WAGE_FIELDS),
    FormStep("representative", N_("Employee representative"), N_("Who approves for the employees."), REPRESENTATIVE),
)
REVIEW = FormStep("review", N_("Review and sign"), N_("Check everything and sign."), ())
BY_NAME = {step.name: step for step in (*STEPS, REVIEW)}
BY_PATH = {field.path: field for step in STEPS for field in step.fields}
_FILL_IN = N_("Fill in this field.")
_NOT_AN_AMOUNT = N_("Write an amount in kroner, for example 25.000 or 25.000,50.")


def scheme_of(value: str) -> str:
    """The form's scheme; anything else is an internship, the form's first use."""
    return value if value in SCHEMES else "internship"


def for_position(entered: Mapping[str, str]) -> bool:
    return entered.get("applies_for") == "position"


def steps_for(entered: Mapping[str, str]) -> tuple[FormStep, ...]:
    """The steps this draft goes through, review last: an internship has no wage step."""
    internship = scheme_of(entered.get("scheme", "")) == "internship"
    return (*(step for step in STEPS if not (internship and step.name == "wage")), REVIEW)


def fields_of(step: FormStep, entered: Mapping[str, str]) -> tuple[Field, ...]:
    """The step's fields for this draft: a position names no citizen, only an internship states its purpose."""
    internship = scheme_of(entered.get("scheme", "")) == "internship"
    return tuple(
        field
        for field in step.fields
        if not (field in CITIZEN and for_position(entered)) and not (field is PURPOSE and not internship)
    )


def neighbours(step: FormStep, entered: Mapping[str, str]) -> tuple[FormStep | None, FormStep | None]:
    """The steps before and after `step` in this draft's order."""
    order = steps_for(entered)
    index = next((i for i, found in enumerate(order) if found.name == step.name), 0)
    return (order[index - 1] if index else None, order[index + 1] if index + 1 < len(order) else None)


def missing(step: FormStep, entered: Mapping[str, str]) -> dict[str, str]:
    """Field id → message id for what a person can fix on this step before the API is asked."""
    errors = {
        field.id: _FILL_IN
        for field in fields_of(step, entered)
        if not field.optional
        and (not entered.get(field.path) or (field.options and entered[field.path] not in field.options))
    }
    for field in (*WAGE_FIELDS[:2],) if step.name == "wage" else ():
        if entered.get(field.path) and not isinstance(_ore(entered[field.path]), int):
            errors[field.id] = _NOT_AN_AMOUNT
    for number in range(1, len(STEP_UPS) + 1) if step.name == "period" else ():
        day, hours = entered.get(f"hours_up.{number}.from_date"), entered.get(f"hours_up.{number}.hours")
        if bool(day) != bool(hours):
            errors[BY_PATH[f"hours_up.{number}.{'hours' if day else 'from_date'}"].id] = N_(
                "Give both the day the hours step up and the hours from then."
            )
    return errors


def first_incomplete(entered: Mapping[str, str]) -> FormStep | None:
    """The first step of the draft with something left to fill in, if any."""
    return next((step for step in steps_for(entered) if missing(step, entered)), None)


def document(entered: Mapping[str, str], cvr: str) -> dict[str, Any]:
    """The application as the API takes it and the employer signs it."""
    employer: dict[str, Any] = {
        "cvr": cvr,
        "name": entered["employer.name"],
        "production_unit": entered["employer.production_unit"],
        "workplace": entered["employer.workplace"],
        "company_employees": _number(entered["employer.company_employees"]),
        "ordinary_employees_fte": entered["employer.ordinary_employees_fte"].replace(",", "."),
    }
    if entered.get("employer.email"):
        employer["email"] = entered["employer.email"]
    scheme = scheme_of(entered.get("scheme", ""))
    if scheme != "internship" and entered.get("employer.headcounts_fte"):
        employer["headcounts_fte"] = [fte.replace(",", ".") for fte in entered["employer.headcounts_fte"].split()]
    form: dict[str, Any] = {
        "scheme": scheme,
        "citizen": None
        if for_position(entered)
        else {
            "cpr": entered["citizen.cpr"].replace("-", ""),
            "consent_reference": entered["citizen.consent_reference"],
        },
        "employer": employer,
        "municipality": entered["municipality"],
        "position_title": entered["position_title"],
        "tasks": entered["tasks"],
        "employment_goal": entered["employment_goal"],
        "period": {"start": entered["period.start"], "end": entered["period.end"]},
        "weekly_hours": weekly_hours(entered),
    }
    if scheme == "internship":
        form["purpose"] = entered["purpose"]
    else:
        form["wage"] = {
            "hourly_wage_ore": _ore(entered["wage.hourly_wage_ore"]),
            "hourly_wage_costs_ore": _ore(entered["wage.hourly_wage_costs_ore"]),
        }
    if entered.get("representative.name") or entered.get("representative.email"):
        form["representative"] = {"name": entered["representative.name"], "email": entered["representative.email"]}
    return form


def weekly_hours(entered: Mapping[str, str]) -> list[dict[str, str]]:
    """The hours from the first day, then each step up that was filled in, in the order given."""
    first = [{"from_date": entered["period.start"], "hours_per_week": entered["hours"].replace(",", ".")}]
    return first + [
        {
            "from_date": entered[f"hours_up.{n}.from_date"],
            "hours_per_week": entered[f"hours_up.{n}.hours"].replace(",", "."),
        }
        for n in range(1, len(STEP_UPS) + 1)
        if entered.get(f"hours_up.{n}.from_date") and entered.get(f"hours_up.{n}.hours")
    ]


def field_errors(problem_errors: list[dict[str, Any]], entered: Mapping[str, str]) -> dict[str, str]:
    """The API's validation problems, each on the form field whose path ends its `location`."""
    step_ups = [
        n
        for n in range(1, len(STEP_UPS) + 1)
        if entered.get(f"hours_up.{n}.from_date") and entered.get(f"hours_up.{n}.hours")
    ]
    errors = {}
    for error in problem_errors:
        location = [str(part) for part in error.get("location", [])]
        parts = location[location.index("application") + 1 :] if "application" in location else []
        field = BY_PATH.get(_field_path(parts, step_ups))
        if field is not None:
            errors[field.id] = N_("Check this field: the jobcentre cannot accept what it says.")
    return errors or {SCHEME.id: N_("The application could not be accepted: check the fields.")}


def step_of(field_id: str) -> FormStep:
    """The step that asks for the field."""
    return next((step for step in STEPS for field in step.fields if field.id == field_id), STEPS[0])


def _field_path(parts: list[str], step_ups: list[int]) -> str:
    if parts[:1] == ["weekly_hours"]:
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if 0 < index <= len(step_ups):
            return f"hours_up.{step_ups[index - 1]}.{'from_date' if parts[2:3] == ['from_date'] else 'hours'}"
        return "hours"
    if parts[:2] == ["employer", "headcounts_fte"]:
        return "employer.headcounts_fte"
    if parts[:1] == ["citizen"] and len(parts) == 1:
        return "applies_for"
    return ".".join(part for part in parts if not part.isdigit())


def _number(value: str) -> int | str:
    return int(value) if value.strip().isdigit() else value


def _ore(kroner: str) -> int | str:
    """Danish kroner (`25.000,50`) as øre; what is not an amount stays as typed, for the API to refuse."""
    digits = kroner.replace(".", "").replace(" ", "").replace(",", ".")
    try:
        return int(Decimal(digits) * 100) if re.fullmatch(r"\d+(\.\d{1,2})?", digits) else kroner
    except InvalidOperation:
        return kroner
