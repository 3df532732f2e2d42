"""Eligibility of a subsidised placement: each rule on its own, then combined into a decision."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rules import (
    InternshipRule,
    NetAdditionalEmploymentRule,
    Outcome,
    RatioRule,
    Rulebook,
    RuleNotInForce,
    RuleResult,
    Sector,
)
from services.subsidy.domain import Scheme, Verdict, verdict_of
from services.subsidy.eligibility import (
    ApplicationFacts,
    CitizenFacts,
    Employer,
    ExistingPlacement,
    HoursStep,
    ProductionUnit,
    allowed_placements,
    check_headcount,
    check_internship_hours,
    check_longest_duration,
    check_max_duration,
    check_public_attestation,
    check_ratio,
    check_vacated_post,
    evaluate,
)

TODAY = date(2026, 3, 2)
START = date(2026, 4, 6)


def _internship(**changes: Any) -> ApplicationFacts:
    application = ApplicationFacts(
        scheme=Scheme.INTERNSHIP,
        starts_on=START,
        ends_on=START + timedelta(weeks=4, days=-1),
        employer=Employer(sector=Sector.PRIVATE),
        production_unit=ProductionUnit(ordinary_fte=Decimal(20)),
        weekly_hours=(HoursStep(START, Decimal(37)),),
    )
    return replace(application, **changes)


def _wage_subsidy(**changes: Any) -> ApplicationFacts:
    application = _internship(
        scheme=Scheme.WAGE_SUBSIDY_PRIVATE,
        ends_on=date(2026, 10, 5),
        employer=Employer(sector=Sector.PRIVATE, monthly_ordinary_fte=(Decimal(20),) * 12),
        weekly_hours=(),
    )
    return replace(application, **changes)


def _citizen(**changes: Any) -> CitizenFacts:
    citizen = CitizenFacts(
        target_group="kontanthjaelp_job_ready", birth_date=date(1990, 5, 17), unemployed_since=date(2025, 9, 1)
    )
    return replace(citizen, **changes)


def _failures(results: tuple[RuleResult, ...]) -> list[RuleResult]:
    return [result for result in results if result.outcome is Outcome.FAILED]


def _placed(count: int, scheme: str = "internship", ends_on: date | None = None) -> tuple[ExistingPlacement, ...]:
    return tuple(ExistingPlacement(scheme, date(2026, 1, 5), ends_on) for _ in range(count))


@pytest.mark.parametrize(
    ("ordinary_fte", "allowed"),
    [
        ("0", 1),
        ("1", 1),
        ("5", 1),
        ("9.5", 1),
        ("9.99", 1),
        ("10", 2),
        ("20", 4),
        ("49.9", 9),
        ("50", 10),
        ("59.9", 10),
        ("60", 11),
        ("125", 17),
    ],
)
def test_ratio_rule_allows_placements_by_ordinary_fte(rulebook: Rulebook, ordinary_fte: str, allowed: int) -> None:
    rule = rulebook.in_force(RatioRule, START)
    assert allowed_placements(Decimal(ordinary_fte), rule) == allowed


def test_passes_ratio_when_the_unit_has_room_for_one_more(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(20), _placed(3)))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.PASSED
    assert result.rule_set_version == "ratio-2018.1"


def test_counts_internships_wage_subsidy_and_utility_work_together(rulebook: Rulebook) -> None:
    placed = _placed(2) + _placed(1, "wage_subsidy") + _placed(1, "utility_work")
    application = _internship(production_unit=ProductionUnit(Decimal(20), placed))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.FAILED
    assert "would host 5" in result.reason


def test_warns_when_the_ratio_fails_today_but_holds_on_the_start_date(rulebook: Rulebook) -> None:
    ending_before_start = _placed(1, ends_on=START - timedelta(days=1))
    application = _internship(production_unit=ProductionUnit(Decimal(5), ending_before_start))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.WARNING
    assert "may override it with a remark" in result.reason


def test_warning_quotes_the_applicants_override_remark(rulebook: Rulebook) -> None:
    ending_before_start = _placed(1, ends_on=START - timedelta(days=1))
    application = _internship(
        production_unit=ProductionUnit(Decimal(5), ending_before_start), ratio_override_remark="Lene leaves 3 April"
    )

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.WARNING
    assert "'Lene leaves 3 April'" in result.reason


def test_a_placement_ending_on_the_start_date_still_occupies_it(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(5), _placed(1, ends_on=START)))

    assert check_ratio(application, rulebook.in_force(RatioRule, START), TODAY).outcome is Outcome.FAILED


def test_a_placement_ending_the_day_before_the_start_does_not_count(rulebook: Rulebook) -> None:
    before = (ExistingPlacement("internship", date(2026, 3, 9), START - timedelta(days=1)),)
    application = _internship(production_unit=ProductionUnit(Decimal(5), before))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.PASSED
    assert "hosts at most 1" in result.reason


def test_a_placement_starting_on_the_end_date_counts(rulebook: Rulebook) -> None:
    application = _internship()
    on_the_last_day = (ExistingPlacement("wage_subsidy", application.ends_on, None),)
    application = replace(application, production_unit=ProductionUnit(Decimal(5), on_the_last_day))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.FAILED
    assert result.reason.startswith(f"busiest on {application.ends_on}:")
    assert result.reason.endswith("would host 2")


def _peaking_midway(extra: int) -> tuple[ExistingPlacement, ...]:
    """Two placements all period, one leaving on 13 April, one coming on 14 April, and `extra` on 20–22 April."""
    return (
        *_placed(2),
        ExistingPlacement("internship", date(2026, 1, 5), date(2026, 4, 13)),
        ExistingPlacement("utility_work", date(2026, 4, 14), date(2026, 6, 30)),
        *(ExistingPlacement("wage_subsidy", date(2026, 4, 20), date(2026, 4, 22)) for _ in range(extra)),
    )


def test_placements_that_follow_each_other_share_a_place(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(20), _peaking_midway(0)))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.PASSED
    assert "hosts at most 4" in result.reason


def test_fails_the_ratio_at_a_peak_inside_the_period(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(20), _peaking_midway(1)))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.FAILED
    assert result.reason.startswith("busiest on 2026-04-20:")
    assert result.reason.endswith("would host 5")


def test_a_placement_starting_after_today_within_the_period_fails_even_with_room_today(rulebook: Rulebook) -> None:
    later = (ExistingPlacement("internship", START + timedelta(days=7), None),)
    application = _internship(
        production_unit=ProductionUnit(Decimal(5), later), ratio_override_remark="there is room today"
    )

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY)

    assert result.outcome is Outcome.FAILED


def test_does_not_check_the_ratio_for_persons_under_the_integration_act(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(5), _placed(3)))

    result = check_ratio(application, rulebook.in_force(RatioRule, START), TODAY, under_integration_act=True)

    assert result.outcome is Outcome.PASSED


def test_passes_headcount_when_last_month_equals_the_yearly_average(rulebook: Rulebook) -> None:
    employer = Employer(
        Sector.PRIVATE, monthly_ordinary_fte=(Decimal("19.5"), Decimal("20.5")) * 5 + (Decimal(20),) * 2
    )

    result = check_headcount(employer, rulebook.in_force(NetAdditionalEmploymentRule, START))

    assert result.outcome is Outcome.PASSED


def test_fails_headcount_when_last_month_is_below_the_yearly_average(rulebook: Rulebook) -> None:
    employer = Employer(Sector.PRIVATE, monthly_ordinary_fte=(Decimal(22),) * 11 + (Decimal("21.5"),))

    result = check_headcount(employer, rulebook.in_force(NetAdditionalEmploymentRule, START))

    assert result.outcome is Outcome.FAILED
    assert "21.5 ordinary FTE is below the 12-month average of 21.96" in result.reason


def test_headcount_looks_back_twelve_months_only(rulebook: Rulebook) -> None:
    employer = Employer(Sector.PRIVATE, monthly_ordinary_fte=(Decimal(90),) + (Decimal(20),) * 12)

    assert check_headcount(employer, rulebook.in_force(NetAdditionalEmploymentRule, START)).outcome is Outcome.PASSED


def test_refers_headcount_of_a_young_company_to_a_caseworker(rulebook: Rulebook) -> None:
    employer = Employer(Sector.PRIVATE, monthly_ordinary_fte=(Decimal(3),) * 5)

    result = check_headcount(employer, rulebook.in_force(NetAdditionalEmploymentRule, START))

    assert result.outcome is Outcome.NEEDS_JUDGEMENT


@pytest.mark.parametrize(
    ("vacated_on", "outcome"),
    [
        (date(2026, 1, 5), Outcome.PASSED),
        (date(2026, 1, 6), Outcome.FAILED),  # exactly three months before the start date
        (date(2026, 3, 20), Outcome.FAILED),
        (None, Outcome.PASSED),
    ],
)
def test_rejects_a_post_vacated_within_three_months_before_the_start(
    rulebook: Rulebook, vacated_on: date | None, outcome: Outcome
) -> None:
    employer = Employer(Sector.PRIVATE, vacated_post_on=vacated_on)

    result = check_vacated_post(employer, START, rulebook.in_force(NetAdditionalEmploymentRule, START))

    assert result.outcome is outcome


def test_refers_a_public_employers_signed_attestation_to_a_caseworker(rulebook: Rulebook) -> None:
    rule = rulebook.in_force(NetAdditionalEmploymentRule, START)

    signed = check_public_attestation(Employer(Sector.PUBLIC, net_addition_attested=True), rule)
    unsigned = check_public_attestation(Employer(Sector.PUBLIC), rule)
    private = check_public_attestation(Employer(Sector.PRIVATE), rule)

    assert (signed.outcome, unsigned.outcome, private.outcome) == (
        Outcome.NEEDS_JUDGEMENT,
        Outcome.FAILED,
        Outcome.PASSED,
    )


def test_allows_an_internship_of_exactly_four_weeks_for_job_ready(rulebook: Rulebook) -> None:
    result = check_max_duration(_internship(ends_on=date(2026, 5, 3)), _citizen(), rulebook)

    assert result.outcome is Outcome.PASSED
    assert result.rule_set_version == "internship-2018.1"


def test_rejects_internship_longer_than_four_weeks_for_job_ready(rulebook: Rulebook) -> None:
    result = check_max_duration(_internship(ends_on=date(2026, 5, 4)), _citizen(), rulebook)

    assert result.outcome is Outcome.FAILED
    assert "4 weeks, ending at the latest 2026-05-03" in result.reason


def test_allows_eight_weeks_for_a_new_graduate_on_dagpenge(rulebook: Rulebook) -> None:
    citizen = _citizen(target_group="dagpenge", newly_graduated=True)

    result = check_max_duration(_internship(ends_on=date(2026, 5, 31)), citizen, rulebook)

    assert result.outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("unemployed_since", "outcome"),
    [(date(2025, 4, 6), Outcome.PASSED), (date(2025, 4, 7), Outcome.FAILED)],
)
def test_allows_eight_weeks_from_age_fifty_after_twelve_months_unemployed(
    rulebook: Rulebook, unemployed_since: date, outcome: Outcome
) -> None:
    citizen = _citizen(target_group="dagpenge", birth_date=date(1976, 4, 6), unemployed_since=unemployed_since)

    result = check_max_duration(_internship(ends_on=date(2026, 5, 31)), citizen, rulebook)

    assert result.outcome is outcome


def test_keeps_thirteen_weeks_for_activity_ready_even_when_eight_would_apply(rulebook: Rulebook) -> None:
    citizen = _citizen(
        target_group="kontanthjaelp_activity_ready", birth_date=date(1960, 1, 1), unemployed_since=date(2020, 1, 1)
    )

    result = check_max_duration(_internship(ends_on=date(2026, 7, 5)), citizen, rulebook)

    assert result.outcome is Outcome.PASSED


def test_allows_thirteen_weeks_on_sygedagpenge_until_an_operator_changes_it(rulebook: Rulebook) -> None:
    citizen = _citizen(target_group="sygedagpenge")

    assert check_max_duration(_internship(ends_on=date(2026, 7, 5)), citizen, rulebook).outcome is Outcome.PASSED
    assert check_max_duration(_internship(ends_on=date(2026, 7, 6)), citizen, rulebook).outcome is Outcome.FAILED


@pytest.mark.parametrize(
    ("ends_on", "outcome"),
    [(date(2027, 2, 28), Outcome.PASSED), (date(2027, 3, 1), Outcome.FAILED)],
)
def test_counts_six_private_wage_subsidy_months_to_the_end_of_february(
    rulebook: Rulebook, ends_on: date, outcome: Outcome
) -> None:
    application = _wage_subsidy(starts_on=date(2026, 8, 31), ends_on=ends_on)

    assert check_max_duration(application, _citizen(target_group="dagpenge"), rulebook).outcome is outcome


@pytest.mark.parametrize(
    ("target_group", "last_allowed_day"),
    [
        ("dagpenge", date(2026, 8, 5)),
        ("kontanthjaelp_activity_ready", date(2026, 10, 5)),
        ("jobafklaringsydelse", date(2027, 4, 5)),
    ],
)
def test_limits_public_wage_subsidy_by_the_citizens_group(
    rulebook: Rulebook, target_group: str, last_allowed_day: date
) -> None:
    public = Employer(Sector.PUBLIC)
    citizen = _citizen(target_group=target_group)

    fits = check_max_duration(_wage_subsidy(employer=public, ends_on=last_allowed_day), citizen, rulebook)
    too_long = check_max_duration(
        _wage_subsidy(employer=public, ends_on=last_allowed_day + timedelta(days=1)), citizen, rulebook
    )

    assert (fits.outcome, too_long.outcome) == (Outcome.PASSED, Outcome.FAILED)


def test_refers_public_wage_subsidy_for_a_group_without_a_maximum(rulebook: Rulebook) -> None:
    application = _wage_subsidy(employer=Employer(Sector.PUBLIC))

    result = check_max_duration(application, _citizen(target_group="flexjob_referred"), rulebook)

    assert result.outcome is Outcome.NEEDS_JUDGEMENT
    assert "flexjob_referred" in result.reason


def test_allows_weekly_hours_stepping_up_to_thirty_seven(rulebook: Rulebook) -> None:
    steps = (
        HoursStep(START, Decimal(15)),
        HoursStep(date(2026, 4, 13), Decimal("22.5")),
        HoursStep(date(2026, 4, 27), Decimal(37)),
    )

    result = check_internship_hours(_internship(weekly_hours=steps), rulebook.in_force(InternshipRule, START))

    assert result.outcome is Outcome.PASSED


def test_rejects_a_step_above_thirty_seven_hours(rulebook: Rulebook) -> None:
    steps = (HoursStep(START, Decimal(30)), HoursStep(date(2026, 4, 20), Decimal("37.5")))

    result = check_internship_hours(_internship(weekly_hours=steps), rulebook.in_force(InternshipRule, START))

    assert result.outcome is Outcome.FAILED
    assert "37.5 hours a week from 2026-04-20" in result.reason


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ((), "no weekly hours"),
        ((HoursStep(date(2026, 4, 7), Decimal(20)),), "not on the start date"),
        ((HoursStep(START, Decimal(20)), HoursStep(START, Decimal(25))), "increasing dates"),
        ((HoursStep(START, Decimal(20)), HoursStep(date(2026, 5, 4), Decimal(25))), "after the internship ends"),
        ((HoursStep(START, Decimal(0)),), "outside 0 to 37"),
    ],
)
def test_rejects_a_schedule_that_does_not_cover_the_internship(
    rulebook: Rulebook, steps: tuple[HoursStep, ...], problem: str
) -> None:
    result = check_internship_hours(_internship(weekly_hours=steps), rulebook.in_force(InternshipRule, START))

    assert result.outcome is Outcome.FAILED
    assert problem in result.reason


def test_approves_an_internship_passing_every_rule(rulebook: Rulebook) -> None:
    decision = evaluate(_internship(), _citizen(), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.APPROVED
    assert [result.rule for result in decision] == ["ratio", "internship_hours", "max_duration"]


def test_approves_despite_a_ratio_warning(rulebook: Rulebook) -> None:
    application = _internship(production_unit=ProductionUnit(Decimal(5), _placed(1, ends_on=START - timedelta(days=1))))

    decision = evaluate(application, _citizen(), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.APPROVED
    assert decision[0].outcome is Outcome.WARNING


def test_rejects_listing_every_failed_rule(rulebook: Rulebook) -> None:
    application = _internship(
        production_unit=ProductionUnit(Decimal(5), _placed(2)),
        ends_on=date(2026, 6, 1),
        weekly_hours=(HoursStep(START, Decimal(40)),),
    )

    decision = evaluate(application, _citizen(), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.REJECTED
    assert [result.rule for result in _failures(decision)] == ["ratio", "internship_hours", "max_duration"]


def test_rejects_rather_than_refers_when_one_rule_fails_and_another_needs_judgement(rulebook: Rulebook) -> None:
    application = _wage_subsidy(
        employer=Employer(Sector.PUBLIC, monthly_ordinary_fte=(Decimal(20),) * 12, net_addition_attested=True),
        ends_on=date(2027, 1, 1),
    )

    decision = evaluate(application, _citizen(target_group="dagpenge"), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.REJECTED
    assert [result.rule for result in _failures(decision)] == ["max_duration"]


def test_refers_a_public_wage_subsidy_job_to_a_caseworker(rulebook: Rulebook) -> None:
    application = _wage_subsidy(
        employer=Employer(Sector.PUBLIC, monthly_ordinary_fte=(Decimal(20),) * 12, net_addition_attested=True),
        ends_on=date(2026, 8, 5),
    )

    decision = evaluate(application, _citizen(target_group="dagpenge"), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.REFERRED
    assert _failures(decision) == []


def test_approves_a_private_wage_subsidy_job_checking_net_additional_employment(rulebook: Rulebook) -> None:
    decision = evaluate(_wage_subsidy(), _citizen(), rulebook, TODAY)

    assert verdict_of(decision) is Verdict.APPROVED
    assert {result.rule for result in decision} == {
        "ratio",
        "net_additional_employment.headcount",
        "net_additional_employment.vacated_post",
        "net_additional_employment.public_attestation",
        "max_duration",
    }


def test_defers_the_duration_check_of_a_position_without_a_named_citizen(rulebook: Rulebook) -> None:
    decision = evaluate(_internship(ends_on=date(2026, 7, 5)), None, rulebook, TODAY)

    assert verdict_of(decision) is Verdict.APPROVED
    assert "max_duration" not in [result.rule for result in decision]
    assert decision[-1].rule == "max_duration.any_target_group"


@pytest.mark.parametrize(
    ("application", "outcome"),
    [
        (_internship(ends_on=date(2026, 7, 5)), Outcome.PASSED),  # 13 weeks, the longest of any group
        (_internship(ends_on=date(2026, 7, 6)), Outcome.FAILED),
        (_wage_subsidy(ends_on=date(2026, 10, 5)), Outcome.PASSED),  # 6 months for every group, private
        (_wage_subsidy(ends_on=date(2026, 10, 6)), Outcome.FAILED),
    ],
)
def test_rejects_a_position_longer_than_any_target_group_may_stay(
    rulebook: Rulebook, application: ApplicationFacts, outcome: Outcome
) -> None:
    result = check_longest_duration(application, rulebook)

    assert result is not None
    assert result.outcome is outcome


def test_leaves_a_public_positions_length_to_the_citizen_when_a_group_has_no_maximum(rulebook: Rulebook) -> None:
    application = _wage_subsidy(employer=Employer(Sector.PUBLIC), ends_on=date(2028, 1, 1))

    assert check_longest_duration(application, rulebook) is None


def test_leaves_an_internships_length_to_the_citizen_when_a_group_is_unlimited(rules_dir: Path) -> None:
    rule_file = rules_dir / "internship" / "2018-01-01.toml"
    text = (
        rule_file.read_text()
        .replace("sygedagpenge = 13\n", "")
        .replace("unlimited_target_groups = []", 'unlimited_target_groups = ["sygedagpenge"]')
    )
    rule_file.write_text(text)

    assert check_longest_duration(_internship(ends_on=date(2027, 1, 1)), Rulebook.load(rules_dir)) is None


def test_reads_the_rules_in_force_on_the_start_date(rulebook: Rulebook) -> None:
    with pytest.raises(RuleNotInForce, match="no ratio rule in force on 2017-06-01"):
        evaluate(_internship(starts_on=date(2017, 6, 1)), _citizen(), rulebook, TODAY)
