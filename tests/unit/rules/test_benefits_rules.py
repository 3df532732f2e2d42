"""Benefits rules: prior unemployment, internship length, the employer's monthly subsidy, benefit proration."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rules import NotInRuleData, Outcome, Rulebook, RuleNotInForce, Sector
from rules.max_duration import rule as duration
from services.benefits.rules import (
    CitizenFacts,
    Month,
    Period,
    SubsidyReport,
    WageSubsidyPlacement,
    YearToDate,
    check_prior_unemployment,
    correction_difference,
    monthly_subsidy,
    prorate,
)

START = date(2026, 4, 6)
MARCH_2021 = Month(2021, 3)
FULL_TIME_PRIVATE = WageSubsidyPlacement(Sector.PRIVATE, Period(date(2021, 1, 4)), weekly_hours=Decimal(37))


def _citizen(**changes: Any) -> CitizenFacts:
    citizen = CitizenFacts(target_group="dagpenge", birth_date=date(1990, 5, 17), unemployed_since=date(2025, 10, 6))
    return replace(citizen, **changes)


def internship_max_weeks(citizen: CitizenFacts, starts_on: date, rulebook: Rulebook) -> int | None:
    """The longest internship in weeks, as the maximum-duration rule gives it to benefits."""
    who = duration.Citizen(citizen.target_group, citizen.birth_date, citizen.unemployed_since, citizen.newly_graduated)
    _, last_day = duration.latest_end(rulebook, duration.INTERNSHIP, starts_on, Sector.PRIVATE, who)
    return None if last_day is None else ((last_day - starts_on).days + 1) // 7


def _report(paid_hours: str, **changes: Any) -> SubsidyReport:
    report = SubsidyReport(MARCH_2021, paid_hours=Decimal(paid_hours), wage_costs_ore=3_000_000)
    return replace(report, **changes)


@pytest.mark.parametrize(
    ("unemployed_since", "outcome"),
    [(date(2025, 10, 6), Outcome.PASSED), (date(2025, 10, 7), Outcome.FAILED)],
)
def test_requires_six_months_of_unemployment_before_a_wage_subsidy_job(
    rulebook: Rulebook, unemployed_since: date, outcome: Outcome
) -> None:
    result = check_prior_unemployment(_citizen(unemployed_since=unemployed_since), START, rulebook)

    assert result.outcome is outcome
    assert result.rule_set_version == "prior-unemployment-2018.1"


@pytest.mark.parametrize(
    "exempt",
    [
        {"birth_date": date(1976, 4, 6)},
        {"single_parent": True},
        {"has_upper_secondary_or_vocational_education": False},
    ],
    ids=["turned_fifty", "single_parent", "no_upper_secondary_or_vocational_education"],
)
def test_exempts_from_prior_unemployment_from_day_one(rulebook: Rulebook, exempt: dict[str, object]) -> None:
    citizen = _citizen(unemployed_since=START, **exempt)

    result = check_prior_unemployment(citizen, START, rulebook)

    assert result.outcome is Outcome.PASSED
    assert "from day 1" in result.reason


def test_a_forty_nine_year_old_is_not_exempt(rulebook: Rulebook) -> None:
    citizen = _citizen(birth_date=date(1976, 4, 7), unemployed_since=START)

    assert check_prior_unemployment(citizen, START, rulebook).outcome is Outcome.FAILED


def test_fails_prior_unemployment_for_a_citizen_not_registered_as_unemployed(rulebook: Rulebook) -> None:
    result = check_prior_unemployment(_citizen(unemployed_since=None), START, rulebook)

    assert result.outcome is Outcome.FAILED


def test_does_not_require_prior_unemployment_of_the_sick_listed(rulebook: Rulebook) -> None:
    result = check_prior_unemployment(_citizen(target_group="sygedagpenge", unemployed_since=None), START, rulebook)

    assert result.outcome is Outcome.PASSED


def test_refers_a_group_unknown_to_the_rule_to_a_caseworker(rulebook: Rulebook) -> None:
    result = check_prior_unemployment(_citizen(target_group="job_ready"), START, rulebook)

    assert result.outcome is Outcome.NEEDS_JUDGEMENT


@pytest.mark.parametrize(
    ("changes", "weeks"),
    [
        ({}, 4),
        ({"newly_graduated": True}, 8),
        ({"newly_graduated": True, "target_group": "kontanthjaelp_job_ready"}, 4),
        ({"target_group": "uddannelseshjaelp_activity_ready"}, 13),
        ({"target_group": "sygedagpenge"}, 13),
    ],
)
def test_maps_target_group_to_internship_max_weeks(rulebook: Rulebook, changes: dict[str, object], weeks: int) -> None:
    assert internship_max_weeks(_citizen(**changes), START, rulebook) == weeks


def test_sygedagpenge_internships_can_be_made_unlimited_in_the_data(rules_dir: Path) -> None:
    path = rules_dir / "internship" / "2018-01-01.toml"
    text = path.read_text().replace("sygedagpenge = 13\n", "")
    path.write_text(text.replace("unlimited_target_groups = []", 'unlimited_target_groups = ["sygedagpenge"]'))

    weeks = internship_max_weeks(_citizen(target_group="sygedagpenge"), START, Rulebook.load(rules_dir))

    assert weeks is None


def test_pays_rate_times_paid_hours_in_ore(rulebook: Rulebook) -> None:
    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("160"), YearToDate(), rulebook)

    assert calculation.hourly_rate == Decimal("82.90")
    assert calculation.payable_ore == 1_326_400
    assert calculation.rule_set_versions == ("subsidy-rates-2021.1", "state-aid-2018.1")


def test_rounds_half_an_ore_up(rulebook: Rulebook) -> None:
    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("100.05"), YearToDate(), rulebook)

    assert calculation.gross_ore == 829_415  # 82.90 × 100.05 = 8294.145 DKK


def test_pays_the_public_special_rate_of_2018(rulebook: Rulebook) -> None:
    placement = WageSubsidyPlacement(Sector.PUBLIC, Period(date(2018, 1, 1)), Decimal(37), special_rate=True)

    calculation = monthly_subsidy(placement, _report("10", month=Month(2018, 3)), YearToDate(), rulebook)

    assert calculation.payable_ore == 151_000


def test_refuses_a_special_rate_the_data_does_not_have(rulebook: Rulebook) -> None:
    placement = replace(FULL_TIME_PRIVATE, special_rate=True)

    with pytest.raises(NotInRuleData, match="no 'private_special' rate"):
        monthly_subsidy(placement, _report("10"), YearToDate(), rulebook)


def test_uses_the_rate_of_the_reported_month_at_the_year_boundary(rulebook: Rulebook) -> None:
    placement = replace(FULL_TIME_PRIVATE, period=Period(date(2018, 6, 1)))

    december = monthly_subsidy(placement, _report("10", month=Month(2018, 12)), YearToDate(), rulebook)

    assert december.hourly_rate == Decimal("78.12")
    with pytest.raises(RuleNotInForce, match="no subsidy_rates rule in force on 2019-01-01"):
        monthly_subsidy(placement, _report("10", month=Month(2019, 1)), YearToDate(), rulebook)


def test_limits_paid_hours_to_the_weekly_hours_of_the_days_placed(rulebook: Rulebook) -> None:
    placement = replace(FULL_TIME_PRIVATE, period=Period(date(2021, 3, 16), date(2021, 9, 15)))

    calculation = monthly_subsidy(placement, _report("100"), YearToDate(), rulebook)

    assert calculation.subsidised_hours == Decimal("84.57")  # 37 × 16 / 7, rounded down to 0.01 hour
    assert calculation.gross_ore == 701_085


def test_deducts_refunds_the_employer_received(rulebook: Rulebook) -> None:
    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("160", refunds_ore=200_000), YearToDate(), rulebook)

    assert (calculation.refunds_ore, calculation.payable_ore) == (200_000, 1_126_400)


def test_never_pays_below_zero_when_refunds_exceed_the_subsidy(rulebook: Rulebook) -> None:
    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("10", refunds_ore=500_000), YearToDate(), rulebook)

    assert (calculation.refunds_ore, calculation.payable_ore) == (82_900, 0)


def test_caps_private_subsidy_at_half_of_the_years_wage_costs(rulebook: Rulebook) -> None:
    year_to_date = YearToDate(subsidy_paid_ore=4_900_000, wage_costs_ore=10_000_000)

    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("160", wage_costs_ore=2_000_000), year_to_date, rulebook)

    assert calculation.payable_ore == 1_100_000
    assert calculation.state_aid_reduction_ore == 226_400


def test_pays_nothing_once_the_cap_is_used_up(rulebook: Rulebook) -> None:
    year_to_date = YearToDate(subsidy_paid_ore=6_500_000, wage_costs_ore=10_000_000)

    calculation = monthly_subsidy(FULL_TIME_PRIVATE, _report("160", wage_costs_ore=2_000_000), year_to_date, rulebook)

    assert calculation.payable_ore == 0


def test_does_not_cap_public_employers(rulebook: Rulebook) -> None:
    placement = replace(FULL_TIME_PRIVATE, sector=Sector.PUBLIC)
    year_to_date = YearToDate(subsidy_paid_ore=9_000_000, wage_costs_ore=10_000_000)

    calculation = monthly_subsidy(placement, _report("160", wage_costs_ore=2_000_000), year_to_date, rulebook)

    assert calculation.payable_ore == 1_926_400  # 120.40 × 160


def test_corrected_report_pays_only_the_difference(rulebook: Rulebook) -> None:
    corrected = monthly_subsidy(FULL_TIME_PRIVATE, _report("162"), YearToDate(), rulebook)

    assert correction_difference(1_326_400, corrected) == 16_580


def test_corrected_report_claws_back_an_overpayment(rulebook: Rulebook) -> None:
    corrected = monthly_subsidy(FULL_TIME_PRIVATE, _report("150"), YearToDate(), rulebook)

    assert correction_difference(1_326_400, corrected) == -82_900


@pytest.mark.parametrize("month", [Month(2024, 2), Month(2025, 2), Month(2026, 4), Month(2026, 12)])
def test_days_of_a_month_add_up_to_the_monthly_rate(month: Month) -> None:
    days = [month.first_day + timedelta(days=offset) for offset in range(month.days)]

    parts = [prorate(1_234_567, Period(day, day), month) for day in days]

    assert sum(parts) == 1_234_567
    assert max(parts) - min(parts) <= 1


def test_a_full_month_pays_the_monthly_rate() -> None:
    assert prorate(1_234_567, Period(date(2025, 11, 3)), Month(2026, 2)) == 1_234_567


def test_prorates_half_of_february_in_a_leap_year() -> None:
    first_half = prorate(1_000_000, Period(date(2024, 1, 15), date(2024, 2, 14)), Month(2024, 2))
    second_half = prorate(1_000_000, Period(date(2024, 2, 15)), Month(2024, 2))

    assert (first_half, second_half) == (482_758, 517_242)


def test_prorates_half_of_february_in_an_ordinary_year_exactly() -> None:
    assert prorate(1_000_000, Period(date(2025, 2, 1), date(2025, 2, 14)), Month(2025, 2)) == 500_000


def test_partial_periods_of_a_month_sum_exactly() -> None:
    march = Month(2026, 3)
    periods = [
        Period(date(2026, 3, 1), date(2026, 3, 10)),
        Period(date(2026, 3, 11), date(2026, 3, 20)),
        Period(date(2026, 3, 21), date(2026, 5, 1)),
    ]

    assert sum(prorate(999_999, period, march) for period in periods) == 999_999


def test_a_period_outside_the_month_pays_nothing() -> None:
    assert prorate(1_000_000, Period(date(2026, 1, 1), date(2026, 2, 28)), Month(2026, 3)) == 0
    assert prorate(1_000_000, Period(date(2026, 4, 1)), Month(2026, 3)) == 0
