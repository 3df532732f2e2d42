"""The employer's application form for an internship or a wage subsidy: its fields, and the document they make.

The fields are named by their path in the subsidy API's `ApplicationForm` (`employer.production_unit`), so the
API's validation problems (`location` … `employer`, `production_unit`) come back to the field they concern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from services.portal.labels import N_


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: str = "text"
    hint: str | None = None
    optional: bool = False

    @property
    def id(self) -> str:
        return self.path.replace(".", "-")


FIELDS = (
    Field("citizen.cpr", N_("The citizen's CPR number"), hint=N_("10 digits, without a dash.")),
    Field("citizen.consent_reference", N_("Reference to the citizen's consent")),
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
    Field("position_title", N_("Position")),
    Field("tasks", N_("Tasks"), "textarea"),
    Field("employment_goal", N_("Employment goal")),
    Field("period.start", N_("First day"), "date"),
    Field("period.end", N_("Last day"), "date"),
    Field("hours", N_("Hours a week"), hint=N_("At most 37.")),
    Field(
        "representative.name",
        N_("The employee representative's name"),
        hint=N_("Needed when the company has more than one employee."),
        optional=True,
    ),
    Field("representative.email", N_("The employee representative's e-mail"), "email", optional=True),
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
PURPOSE = Field("purpose", N_("Purpose of the internship"), "radio")
SCHEME = Field("scheme", N_("Scheme"), "hidden")
BY_PATH = {field.path: field for field in (*FIELDS, *WAGE_FIELDS, PURPOSE, SCHEME)}
SCHEMES = ("internship", "wage_subsidy_private", "wage_subsidy_public")
"""The schemes the form applies for; a wage subsidy adds wage, wage costs and headcounts, an internship a purpose."""
TITLES = {
    "internship": N_("Apply for an internship"),
    "wage_subsidy_private": N_("Apply for a wage subsidy, private employer"),
    "wage_subsidy_public": N_("Apply for a wage subsidy, public employer"),
}


def scheme_of(value: str) -> str:
    """The form's scheme; anything else is an internship, the form's first use."""
    return value if value in SCHEMES else "internship"


def fields_for(scheme: str) -> tuple[Field, ...]:
    return FIELDS + WAGE_FIELDS if scheme != "internship" else FIELDS


def missing(entered: dict[str, str]) -> dict[str, str]:
    """Field id → message id for every required field left empty, and every amount that is none."""
    scheme = scheme_of(entered.get("scheme", ""))
    errors = {
        field.id: N_("Fill in this field.")
        for field in fields_for(scheme)
        if not field.optional and not entered.get(field.path)
    }
    for field in WAGE_FIELDS[:2] if scheme != "internship" else ():
        if entered.get(field.path) and not isinstance(_ore(entered[field.path]), int):
            errors[field.id] = N_("Write an amount in kroner, for example 25.000 or 25.000,50.")
    if scheme == "internship" and not entered.get("purpose"):
        errors["purpose-" + "clarify_job_goal"] = N_("Choose the purpose of the internship.")
    return errors


def document(entered: dict[str, str], cvr: str) -> dict[str, Any]:
    """The application as the API takes it and the employer signs it (an internship, one step of weekly hours)."""
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
        "citizen": {
            "cpr": entered["citizen.cpr"].replace("-", ""),
            "consent_reference": entered["citizen.consent_reference"],
        },
        "employer": employer,
        "municipality": entered["municipality"],
        "position_title": entered["position_title"],
        "tasks": entered["tasks"],
        "employment_goal": entered["employment_goal"],
        "period": {"start": entered["period.start"], "end": entered["period.end"]},
        "weekly_hours": [{"from_date": entered["period.start"], "hours_per_week": entered["hours"].replace(",", ".")}],
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


def field_errors(problem_errors: list[dict[str, Any]]) -> dict[str, str]:
    """The API's validation problems, each on the form field whose path ends its `location`."""
    errors = {}
    for error in problem_errors:
        location = [str(part) for part in error.get("location", []) if not str(part).isdigit()]
        path = ".".join(location[location.index("application") + 1 :]) if "application" in location else ""
        if path.startswith("weekly_hours"):
            path = "hours"
        elif path.startswith("employer.headcounts_fte"):
            path = "employer.headcounts_fte"
        field = BY_PATH.get(path)
        if field is not None:
            errors[field.id if field.kind != "radio" else "purpose-clarify_job_goal"] = N_(
                "Check this field: the jobcentre cannot accept what it says."
            )
    return errors or {"citizen-cpr": N_("The application could not be accepted: check the fields.")}


def _number(value: str) -> int | str:
    return int(value) if value.strip().isdigit() else value


def _ore(kroner: str) -> int | str:
    """Danish kroner (`25.000,50`) as øre; what is not an amount stays as typed, for the API to refuse."""
    digits = kroner.replace(".", "").replace(" ", "").replace(",", ".")
    try:
        return int(Decimal(digits) * 100) if re.fullmatch(r"\d+(\.\d{1,2})?", digits) else kroner
    except InvalidOperation:
        return kroner
