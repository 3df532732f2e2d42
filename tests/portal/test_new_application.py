"""The application form's document and the way the API's validation problems come back to its fields."""

from __future__ import annotations

from services.portal import newapplication

ENTERED = {
    "citizen.cpr": "140388-1234",
    "citizen.consent_reference": "S-2291",
    "employer.name": "Hansen VVS ApS",
    "employer.email": "",
    "employer.production_unit": "1012345678",
    "employer.workplace": "Smedevej 7, 8000 Aarhus C",
    "employer.company_employees": "3",
    "employer.ordinary_employees_fte": "2,5",
    "municipality": "751",
    "position_title": "Montør",
    "tasks": "Montage",
    "employment_goal": "Job som montør",
    "period.start": "2027-01-04",
    "period.end": "2027-01-17",
    "hours": "37",
    "representative.name": "Mette Jensen",
    "representative.email": "mette@hansen-vvs.example",
    "purpose": "toward_job",
}


def test_the_document_is_the_apis_application_form_for_the_signed_in_cvr() -> None:
    document = newapplication.document(ENTERED, "12345678")
    assert document["scheme"] == "internship" and document["employer"]["cvr"] == "12345678"
    assert document["citizen"]["cpr"] == "1403881234", "the dash a person may type is not part of the number"
    assert document["employer"]["ordinary_employees_fte"] == "2.5" and document["employer"]["company_employees"] == 3
    assert "email" not in document["employer"], "an empty optional field is left out, not sent empty"
    assert document["weekly_hours"] == [{"from_date": "2027-01-04", "hours_per_week": "37"}]
    assert document["representative"] == {"name": "Mette Jensen", "email": "mette@hansen-vvs.example"}


def test_every_required_field_left_empty_is_named() -> None:
    errors = newapplication.missing({"employer.email": ""})
    assert "citizen-cpr" in errors and "period-end" in errors and "purpose-clarify_job_goal" in errors
    assert "employer-email" not in errors and "representative-name" not in errors
    assert newapplication.missing(ENTERED) == {}


def test_the_apis_validation_problems_land_on_their_fields() -> None:
    problems = [
        {"location": ["body", "application", "employer", "production_unit"], "message": "String should match"},
        {"location": ["body", "application", "weekly_hours", 0, "hours_per_week"], "message": "too many"},
        {"location": ["body", "application", "purpose"], "message": "Input should be"},
    ]
    errors = newapplication.field_errors(problems)
    assert set(errors) == {"employer-production_unit", "hours", "purpose-clarify_job_goal"}


def test_a_problem_on_no_field_of_the_form_is_still_shown() -> None:
    errors = newapplication.field_errors([{"location": ["body", "signature"], "message": "missing"}])
    assert list(errors) == ["citizen-cpr"]


WAGE = {k: v for k, v in ENTERED.items() if k != "purpose"} | {
    "scheme": "wage_subsidy_private",
    "wage.hourly_wage_ore": "160,00",
    "wage.hourly_wage_costs_ore": "1.195,50",
    "employer.headcounts_fte": "2 2,5 3",
}


def test_a_wage_subsidy_states_wage_wage_costs_and_headcounts_and_no_purpose() -> None:
    document = newapplication.document(WAGE, "12345678")
    assert document["scheme"] == "wage_subsidy_private" and "purpose" not in document
    assert document["wage"] == {"hourly_wage_ore": 16_000, "hourly_wage_costs_ore": 119_550}
    assert document["employer"]["headcounts_fte"] == ["2", "2.5", "3"]
    assert newapplication.missing(WAGE) == {}, "no purpose asked of a wage subsidy"


def test_a_wage_subsidy_needs_its_wage_as_an_amount() -> None:
    errors = newapplication.missing(WAGE | {"wage.hourly_wage_ore": "", "wage.hourly_wage_costs_ore": "mange"})
    assert errors == {
        "wage-hourly_wage_ore": "Fill in this field.",
        "wage-hourly_wage_costs_ore": "Write an amount in kroner, for example 25.000 or 25.000,50.",
    }
    assert newapplication.scheme_of("lottery") == "internship"
