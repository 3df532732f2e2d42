"""The benefits domain without I/O: assessment, benefit consequences, monthly amounts, subsidy corrections, keys."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from rules import REPOSITORY_RULES_DIR, Outcome, Rulebook, Sector
from services.benefits.domain import (
    Change,
    Instruction,
    PayableCitizen,
    Placement,
    Purpose,
    ReportedMonth,
    assess,
    benefit_instructions,
    placement_ended,
    placement_started,
    subsidy_arithmetic,
    subsidy_instruction,
    subsidy_payment,
    year_to_date,
)
from services.benefits.rules import (
    HoursStep,
    Month,
    Period,
    SubsidyCalculation,
    SubsidyReport,
    WageSubsidyPlacement,
    YearToDate,
    monthly_subsidy,
)
from tests.benefits.factories import citizen

NOVEMBER = Month(2026, 11)
MARCH_2023 = Month(2023, 3)
SIX_MONTHS = Period(date(2026, 4, 6), date(2026, 10, 5))


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return Rulebook.load(REPOSITORY_RULES_DIR)


def _payable(benefit: str = "dagpenge", *periods: Period, rate: int = 1_975_000, top_up: int = 0) -> PayableCitizen:
    return PayableCitizen("c-0123456789abcdef", benefit, rate, top_up, periods, b"sealed")


def _amounts(instructions: list[Instruction]) -> dict[Purpose, int]:
    return {instruction.purpose: instruction.amount_ore for instruction in instructions}


def test_a_citizen_not_in_the_registry_fails_the_rule_citizen_unknown(rulebook: Rulebook) -> None:
    assessment = assess(None, Sector.PRIVATE, SIX_MONTHS, rulebook)

    assert [(r.rule, r.outcome) for r in assessment.results] == [("citizen_unknown", Outcome.FAILED)]
    assert not assessment.eligible
    assert assessment.unemployed_weeks == 0


def test_assesses_six_months_of_prior_unemployment_and_the_private_maximum_for_a_wage_subsidy(
    rulebook: Rulebook,
) -> None:
    assessment = assess(citizen(unemployed_since=date(2025, 10, 6)), Sector.PRIVATE, SIX_MONTHS, rulebook)

    assert [(r.rule, r.outcome) for r in assessment.results] == [
        ("prior_unemployment", Outcome.PASSED),
        ("max_duration", Outcome.PASSED),
    ]
    assert assessment.eligible
    assert assessment.unemployed_weeks == 26
    assert assessment.max_duration_weeks == 26
    assert [r.rule_set_version for r in assessment.results] == [
        "prior-unemployment-2018.1",
        "wage-subsidy-duration-2018.1",
    ]


def test_a_wage_subsidy_before_six_months_of_unemployment_is_not_eligible(rulebook: Rulebook) -> None:
    assessment = assess(citizen(unemployed_since=date(2025, 12, 1)), Sector.PRIVATE, SIX_MONTHS, rulebook)

    assert assessment.results[0].outcome is Outcome.FAILED
    assert "6 months are reached on 2026-06-01" in assessment.results[0].reason
    assert not assessment.eligible


def test_a_single_parent_may_start_a_wage_subsidy_job_from_day_one(rulebook: Rulebook) -> None:
    single_parent = citizen(unemployed_since=date(2026, 4, 1), single_parent=True)

    assessment = assess(single_parent, Sector.PRIVATE, SIX_MONTHS, rulebook)

    assert assessment.eligible
    assert "from day 1: single parent" in assessment.results[0].reason


def test_a_wage_subsidy_longer_than_the_public_maximum_for_dagpenge_fails(rulebook: Rulebook) -> None:
    assessment = assess(citizen(), Sector.PUBLIC, SIX_MONTHS, rulebook)

    assert assessment.results[1].outcome is Outcome.FAILED
    assert assessment.max_duration_weeks == 17  # 4 months from 6 April: 122 days


def test_refers_a_group_without_a_maximum_in_the_data_to_a_caseworker(rulebook: Rulebook) -> None:
    assessment = assess(citizen(target_group="flexjob_referred"), Sector.PUBLIC, SIX_MONTHS, rulebook)

    duration = assessment.results[1]
    assert (duration.rule, duration.outcome) == ("max_duration", Outcome.NEEDS_JUDGEMENT)
    assert assessment.max_duration_weeks is None
    assert not assessment.eligible


@pytest.mark.parametrize(("newly_graduated", "weeks", "eligible"), [(False, 4, False), (True, 8, True)])
def test_an_internship_is_held_to_the_citizens_maximum_without_prior_unemployment(
    rulebook: Rulebook, newly_graduated: bool, weeks: int, eligible: bool
) -> None:
    six_weeks = Period(date(2026, 4, 6), date(2026, 5, 17))

    assessment = assess(citizen(newly_graduated=newly_graduated), None, six_weeks, rulebook)

    assert [r.rule for r in assessment.results] == ["max_duration"]
    assert (assessment.max_duration_weeks, assessment.eligible) == (weeks, eligible)


def test_an_internship_keeps_the_benefit_and_its_end_changes_nothing() -> None:
    period = Period(date(2026, 3, 2), date(2026, 3, 27))

    started = placement_started("kontanthjaelp", False, period)

    assert started is not None
    assert (started.change, started.period) == (Change.CONTINUED, period)
    assert placement_ended("kontanthjaelp", False, date(2026, 3, 13)) is None


def test_a_wage_subsidy_job_suspends_dagpenge_and_uses_the_entitlement() -> None:
    started = placement_started("dagpenge", True, SIX_MONTHS)

    assert started is not None
    assert started.change is Change.SUSPENDED
    assert "dagpenge" in started.reason


@pytest.mark.parametrize("benefit", ["kontanthjaelp", "uddannelseshjaelp"])
def test_a_wage_subsidy_job_cuts_social_assistance_to_a_top_up(benefit: str) -> None:
    started = placement_started(benefit, True, SIX_MONTHS)

    assert started is not None
    assert started.change is Change.TOP_UP_GRANTED


def test_an_early_end_resumes_the_benefit_the_next_day_until_further_notice() -> None:
    ended = placement_ended("dagpenge", True, date(2026, 7, 14))

    assert ended is not None
    assert (ended.change, ended.period) == (Change.RESUMED, Period(date(2026, 7, 15), None))


def test_no_benefit_means_no_adjustment_and_a_disability_pension_is_kept() -> None:
    assert placement_started("none", True, SIX_MONTHS) is None
    kept = placement_started("foertidspension", True, SIX_MONTHS)
    assert kept is not None and kept.change is Change.CONTINUED
    assert placement_ended("foertidspension", True, date(2026, 7, 14)) is None


def test_pays_a_full_month_on_its_last_day_under_a_key_of_purpose_citizen_and_month() -> None:
    [instruction] = benefit_instructions(_payable(), NOVEMBER)

    assert instruction.idempotency_key == "benefit:c-0123456789abcdef:2026-11"
    assert (instruction.amount_ore, instruction.due_on) == (1_975_000, date(2026, 11, 30))
    assert instruction.instruction_id == benefit_instructions(_payable(), NOVEMBER)[0].instruction_id


def test_suspends_dagpenge_for_the_days_of_a_wage_subsidy_job_crossing_the_month_start() -> None:
    from_october = Period(date(2026, 10, 20), date(2026, 11, 10))

    assert _amounts(benefit_instructions(_payable("dagpenge", from_october), NOVEMBER)) == {
        Purpose.BENEFIT: 1_975_000 - 1_975_000 * 10 // 30
    }


def test_pays_the_top_up_for_the_days_placed_and_the_benefit_for_the_rest_in_a_leap_february() -> None:
    from_15th = Period(date(2024, 2, 15), date(2024, 8, 14))

    instructions = benefit_instructions(
        _payable("kontanthjaelp", from_15th, rate=1_000_000, top_up=300_000), Month(2024, 2)
    )

    assert _amounts(instructions) == {
        Purpose.BENEFIT: 482_758,  # 14 of 29 days, rounded down
        Purpose.BENEFIT_TOP_UP: 300_000 - 300_000 * 14 // 29,
    }
    assert {i.idempotency_key.split(":")[0] for i in instructions} == {"benefit", "benefit_top_up"}


def test_overlapping_jobs_suspend_each_day_once_and_a_whole_month_placed_pays_nothing() -> None:
    overlapping = (Period(date(2026, 11, 1), date(2026, 11, 20)), Period(date(2026, 11, 11), date(2026, 11, 30)))

    assert benefit_instructions(_payable("dagpenge", *overlapping), NOVEMBER) == []
    assert _amounts(benefit_instructions(_payable("dagpenge", overlapping[0]), NOVEMBER)) == {
        Purpose.BENEFIT: 1_975_000 - 1_975_000 * 20 // 30
    }


def test_a_disability_pension_is_paid_in_full_during_a_wage_subsidy_job_and_no_benefit_pays_nothing() -> None:
    whole_month = Period(date(2026, 11, 1), date(2026, 11, 30))

    assert _amounts(benefit_instructions(_payable("foertidspension", whole_month), NOVEMBER)) == {
        Purpose.BENEFIT: 1_975_000
    }
    assert benefit_instructions(_payable("none", rate=0), NOVEMBER) == []


def _placement(**changes: Any) -> Placement:
    base = Placement(
        application_id=uuid4(),
        citizen_ref="c-0123456789abcdef",
        sector=Sector.PRIVATE,
        employer_cvr="12345678",
        period=Period(date(2023, 1, 2), date(2023, 6, 30)),
        hours=(HoursStep(date(2023, 1, 2), Decimal(37)),),
    )
    return replace(base, **changes)


def _calculation(rulebook: Rulebook, hours: str, month: Month = MARCH_2023) -> SubsidyCalculation:
    report = SubsidyReport(month, Decimal(hours), wage_costs_ore=3_000_000)
    return monthly_subsidy(_placement().wage_subsidy, report, YearToDate(), rulebook)


def test_first_report_pays_the_month_under_the_key_placement_and_month(rulebook: Rulebook) -> None:
    placement = _placement()
    payment = subsidy_payment(None, _calculation(rulebook, "160"), 0)

    instruction = subsidy_instruction(placement, Month(2023, 3), Period(date(2023, 3, 1), date(2023, 3, 31)), payment)

    assert (payment.revision, payment.pay_ore) == (1, 1_378_560)  # 86.16 DKK × 160 hours
    assert instruction.idempotency_key == f"wage_subsidy:{placement.application_id}:2023-03"
    assert (instruction.payee_cvr, instruction.due_on) == ("12345678", date(2023, 4, 10))


def test_a_corrected_report_pays_only_the_difference_under_a_key_naming_its_revision(rulebook: Rulebook) -> None:
    placement = _placement()
    first = ReportedMonth(Month(2023, 3), 1, 1_378_560, 3_000_000)

    payment = subsidy_payment(first, _calculation(rulebook, "162"), 0)
    instruction = subsidy_instruction(placement, Month(2023, 3), Period(date(2023, 3, 1), date(2023, 3, 31)), payment)

    assert (payment.revision, payment.pay_ore, payment.recoverable_ore) == (2, 17_232, 0)
    assert instruction.idempotency_key.endswith(":2023-03:2")


def test_a_downward_correction_is_owed_back_and_offset_against_the_next_payment(rulebook: Rulebook) -> None:
    first = ReportedMonth(Month(2023, 3), 1, 1_378_560, 3_000_000)

    lowered = subsidy_payment(first, _calculation(rulebook, "150"), 0)
    april = subsidy_payment(None, _calculation(rulebook, "150", Month(2023, 4)), lowered.recoverable_ore)

    assert (lowered.pay_ore, lowered.recoverable_ore) == (0, 86_160)
    assert (april.pay_ore, april.recoverable_ore) == (1_292_400 - 86_160, 0)


def test_the_same_figures_reported_again_pay_nothing(rulebook: Rulebook) -> None:
    first = ReportedMonth(Month(2023, 3), 1, 1_378_560, 3_000_000)

    assert subsidy_payment(first, _calculation(rulebook, "160"), 0).pay_ore == 0


def test_counts_only_earlier_months_of_the_same_year_toward_the_state_aid_cap() -> None:
    months = [
        ReportedMonth(Month(2022, 12), 1, 900, 9_000),
        ReportedMonth(Month(2023, 1), 2, 100, 1_000),
        ReportedMonth(Month(2023, 2), 1, 200, 2_000),
        ReportedMonth(Month(2023, 3), 1, 400, 4_000),
    ]

    assert year_to_date(months, Month(2023, 3)) == YearToDate(300, 3_000)


def test_limits_subsidised_hours_by_each_step_of_the_weekly_hours(rulebook: Rulebook) -> None:
    placement = WageSubsidyPlacement(
        Sector.PRIVATE,
        Period(date(2023, 3, 1), date(2023, 8, 31)),
        Decimal(20),
        later_hours=(HoursStep(date(2023, 3, 15), Decimal(37)),),
    )

    calculation = monthly_subsidy(
        placement, SubsidyReport(Month(2023, 3), Decimal(160), 3_000_000), YearToDate(), rulebook
    )

    assert calculation.subsidised_hours == Decimal("129.85")  # (20 × 14 + 37 × 17) / 7, rounded down


def test_a_change_of_hours_replaces_the_schedule_from_its_day_on() -> None:
    placement = _placement(hours=(HoursStep(date(2023, 1, 2), Decimal(20)), HoursStep(date(2023, 3, 1), Decimal(30))))

    changed = placement.with_hours(date(2023, 2, 1), [HoursStep(date(2023, 2, 1), Decimal(37))])

    assert changed.hours == (HoursStep(date(2023, 1, 2), Decimal(20)), HoursStep(date(2023, 2, 1), Decimal(37)))


def test_a_reissued_instruction_gets_a_new_key_each_time() -> None:
    [instruction] = benefit_instructions(_payable(), NOVEMBER)

    again = instruction.reissued()

    assert again.idempotency_key == "benefit:c-0123456789abcdef:2026-11:reissue-1"
    assert again.reissued().idempotency_key.endswith(":2026-11:reissue-2")
    assert again.instruction_id != instruction.instruction_id


def test_a_month_reads_and_prints_as_year_dash_month() -> None:
    assert Month.parse("2026-11") == NOVEMBER
    assert (str(NOVEMBER), str(NOVEMBER.next), str(Month(2026, 12).next)) == ("2026-11", "2026-12", "2027-01")
    with pytest.raises(ValueError, match="not a month"):
        Month.parse("2026-13")


def test_a_correction_explains_its_arithmetic_from_rate_and_hours_to_the_amount_paid(rulebook: Rulebook) -> None:
    first = ReportedMonth(Month(2023, 3), 1, 1_378_560, 3_000_000)
    calculation = _calculation(rulebook, "162")

    payment = subsidy_payment(first, calculation, 5_000)

    assert (payment.paid_before_ore, payment.offset_ore, payment.pay_ore) == (1_378_560, 5_000, 12_232)
    assert subsidy_arithmetic(calculation, payment) == (
        "86.16 DKK/h (private) × 162.00 h (paid 162.00 h, at most 163.85 h by the weekly hours) = 1395792 øre; "
        "− 0 øre refunds − 0 øre over the state-aid cap = 1395792 øre for the month; "
        "− 1378560 øre by earlier reports − 5000 øre owed back = 12232 øre to pay"
    )
