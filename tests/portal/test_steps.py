"""The employer's later steps: what each form sends the subsidy API, what is checked first, how refusals read."""

from __future__ import annotations

from services.portal.steps import STEPS, check, refused

RUNNING_INTERNSHIP = {"state": "confirmed", "terms": {"scheme": "internship"}}
RUNNING_WAGE_SUBSIDY = {"state": "confirmed", "terms": {"scheme": "wage_subsidy_private"}}
APPROVED = {"state": "approved", "terms": {"scheme": "internship"}}


def _offered(application: dict, can_sign: bool) -> list[str]:
    return [name for name, step in STEPS.items() if step.offered(application, can_sign)]


def test_a_running_placement_offers_its_changes_and_a_wage_subsidy_its_wage_report() -> None:
    assert _offered(RUNNING_INTERNSHIP, True) == ["end", "extend", "hours"]
    assert _offered(RUNNING_WAGE_SUBSIDY, True) == ["end", "extend", "hours", "wages"]
    assert _offered(APPROVED, True) == ["withdraw"]


def test_without_the_signing_right_only_the_withdrawal_is_offered() -> None:
    assert _offered(RUNNING_WAGE_SUBSIDY, False) == []
    assert _offered(APPROVED, False) == ["withdraw"]


def test_the_forms_become_the_bodies_the_api_takes() -> None:
    hours = STEPS["hours"].body({"from_date": "2027-01-04", "hours_per_week": "30,5"})
    assert hours == {"weekly_hours": [{"from_date": "2027-01-04", "hours_per_week": "30.50"}]}
    wages = STEPS["wages"].body(
        {"month": "2026-11", "paid_hours": "160", "wage_costs_ore": "25.000,50", "sickness_refunds_ore": ""}
    )
    assert wages == {"month": "2026-11", "paid_hours": "160.00", "wage_costs_ore": 2_500_050, "sickness_refunds_ore": 0}
    end = STEPS["end"].body({"last_day": "2027-01-08", "reason": "illness", "remark": ""})
    assert end == {"last_day": "2027-01-08", "reason": "illness", "remark": None}
    assert STEPS["withdraw"].body({"reason": ""}) == {"reason": None}


def test_empty_fields_and_amounts_that_are_none_are_caught_before_sending() -> None:
    errors = check(STEPS["wages"], "wage_subsidy_private", {"month": "", "paid_hours": "mange", "wage_costs_ore": "x"})
    assert errors == {
        "month": "Fill in this field.",
        "paid_hours": "Write a number, for example 30 or 30,5.",
        "wage_costs_ore": "Write an amount in kroner, for example 25.000 or 25.000,50.",
    }
    assert check(STEPS["end"], "internship", {"last_day": "2027-01-08", "reason": "bored"}) == {
        "reason": "Choose one of the reasons."
    }
    assert check(STEPS["withdraw"], "internship", {}) == {}, "the withdrawal's reason is optional"


def test_the_apis_refusals_land_on_their_fields_in_plain_language() -> None:
    assert refused(STEPS["extend"], "internship", "extension_not_later", []) == {
        "new_end": "The new end date must be after the current end date."
    }
    invalid = [{"location": ["body", "weekly_hours", "0", "hours_per_week"], "message": "must be greater than 0"}]
    assert list(refused(STEPS["hours"], "internship", "request_invalid", invalid)) == ["hours_per_week"]
    assert refused(STEPS["withdraw"], "internship", "transition_not_allowed", []) == {
        "reason": "The application can no longer be changed this way: its state has changed."
    }
    assert list(refused(STEPS["hours"], "internship", "hours_break_rule", [])) == ["hours_per_week"]
    assert list(refused(STEPS["end"], "internship", "something_new", [])) == ["last_day"], "never an empty summary"
    assert refused(STEPS["wages"], "wage_subsidy_private", "subsidy_rates_not_in_force", []) == {
        "month": "The subsidy for this month cannot be worked out yet: the rules for it are not in place. "
        "Contact the jobcentre."
    }
