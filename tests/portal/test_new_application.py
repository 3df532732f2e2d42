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
    "scheme": "internship",
    "applies_for": "citizen",
}


def test_the_document_is_the_apis_application_form_for_the_signed_in_cvr() -> None:
    document = newapplication.document(ENTERED, "12345678")
    assert document["scheme"] == "internship" and document["employer"]["cvr"] == "12345678"
    assert document["citizen"]["cpr"] == "1403881234", "the dash a person may type is not part of the number"
    assert document["employer"]["ordinary_employees_fte"] == "2.5" and document["employer"]["company_employees"] == 3
    assert "email" not in document["employer"], "an empty optional field is left out, not sent empty"
    assert document["weekly_hours"] == [{"from_date": "2027-01-04", "hours_per_week": "37"}]
    assert document["representative"] == {"name": "Mette Jensen", "email": "mette@hansen-vvs.example"}


def test_hours_that_step_up_are_sent_as_steps_after_the_first_day() -> None:
    stepped = ENTERED | {"hours": "15", "hours_up.1.from_date": "2027-01-11", "hours_up.1.hours": "22,5"}
    assert newapplication.document(stepped, "12345678")["weekly_hours"] == [
        {"from_date": "2027-01-04", "hours_per_week": "15"},
        {"from_date": "2027-01-11", "hours_per_week": "22.5"},
    ]
    errors = newapplication.missing(newapplication.BY_NAME["period"], ENTERED | {"hours_up.2.hours": "30"})
    assert list(errors) == ["hours_up-2-from_date"], "a step up needs its day as well as its hours"


def test_a_position_names_no_citizen_and_its_step_asks_for_none() -> None:
    position = {k: v for k, v in ENTERED.items() if not k.startswith("citizen.")} | {"applies_for": "position"}
    assert newapplication.document(position, "12345678")["citizen"] is None
    step = newapplication.BY_NAME["citizen"]
    assert "citizen.cpr" not in [field.path for field in newapplication.fields_of(step, position)]
    assert newapplication.first_incomplete(position) is None


def test_each_step_names_its_own_fields_left_empty() -> None:
    draft = {"scheme": "internship", "applies_for": "citizen"}
    assert newapplication.missing(newapplication.BY_NAME["scheme"], draft) == {}
    errors = newapplication.missing(newapplication.BY_NAME["citizen"], draft)
    assert "citizen-cpr" in errors and "purpose-clarify_job_goal" in errors and "period-end" not in errors
    errors = newapplication.missing(newapplication.BY_NAME["workplace"], {"employer.email": ""})
    assert "employer-production_unit" in errors and "employer-email" not in errors
    assert newapplication.missing(newapplication.BY_NAME["representative"], {}) == {}
    assert newapplication.first_incomplete(draft) == newapplication.BY_NAME["citizen"]
    assert newapplication.first_incomplete(ENTERED) is None
    lottery = newapplication.missing(newapplication.BY_NAME["scheme"], draft | {"scheme": "lottery"})
    assert lottery == {"scheme-internship": "Fill in this field."}, "only the offered choices"


def test_an_internship_skips_the_wage_step_and_back_and_on_follow_the_drafts_steps() -> None:
    names = [step.name for step in newapplication.steps_for(ENTERED)]
    assert names == ["scheme", "citizen", "workplace", "period", "representative", "review"]
    before, after = newapplication.neighbours(newapplication.BY_NAME["period"], ENTERED)
    assert before is not None and before.name == "workplace" and after is not None and after.name == "representative"
    assert "wage" in [step.name for step in newapplication.steps_for(WAGE)]


def test_the_apis_validation_problems_land_on_their_fields_and_steps() -> None:
    problems = [
        {"location": ["body", "application", "employer", "production_unit"], "message": "String should match"},
        {"location": ["body", "application", "weekly_hours", 0, "hours_per_week"], "message": "too many"},
        {"location": ["body", "application", "weekly_hours", 1, "from_date"], "message": "not ascending"},
        {"location": ["body", "application", "purpose"], "message": "Input should be"},
    ]
    stepped = ENTERED | {"hours_up.2.from_date": "2027-01-11", "hours_up.2.hours": "30"}
    errors = newapplication.field_errors(problems, stepped)
    assert set(errors) == {"employer-production_unit", "hours", "hours_up-2-from_date", "purpose-clarify_job_goal"}
    assert [newapplication.step_of(field).name for field in errors] == ["workplace", "period", "period", "citizen"]


def test_a_problem_on_no_field_of_the_form_is_still_shown() -> None:
    errors = newapplication.field_errors([{"location": ["body", "signature"], "message": "missing"}], ENTERED)
    assert list(errors) == ["scheme-internship"]


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
    assert newapplication.first_incomplete(WAGE) is None, "no purpose asked of a wage subsidy"


def test_a_wage_subsidy_needs_its_wage_as_an_amount() -> None:
    draft = WAGE | {"wage.hourly_wage_ore": "", "wage.hourly_wage_costs_ore": "mange"}
    assert newapplication.missing(newapplication.BY_NAME["wage"], draft) == {
        "wage-hourly_wage_ore": "Fill in this field.",
        "wage-hourly_wage_costs_ore": "Write an amount in kroner, for example 25.000 or 25.000,50.",
    }
    assert newapplication.scheme_of("lottery") == "internship"
