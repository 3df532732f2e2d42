"""Activation rules: overlapping offer periods, and when an offer is due (ret og pligt)."""

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rules import Rulebook
from services.activation.rules import JobseekerFacts, Period, exemption_quota, offer_due, overlaps


def _day(day: int) -> date:
    return date(2026, 3, day)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (Period(_day(1), _day(10)), Period(_day(11), _day(20)), False),  # touching periods
        (Period(_day(1), _day(10)), Period(_day(10), _day(20)), True),  # same-day end and start
        (Period(_day(1), _day(30)), Period(_day(5), _day(6)), True),  # contained
        (Period(_day(5), _day(5)), Period(_day(5), _day(5)), True),  # one shared day
        (Period(_day(1), None), Period(_day(20), _day(25)), True),  # open-ended, started before
        (Period(_day(11), None), Period(_day(1), _day(10)), False),  # open-ended, starts after
        (Period(_day(1), None), Period(_day(15), None), True),  # both open-ended
    ],
)
def test_periods_overlap_when_they_share_a_day(first: Period, second: Period, expected: bool) -> None:
    assert overlaps(first, second) is expected
    assert overlaps(second, first) is expected


def _jobseeker(**changes: Any) -> JobseekerFacts:
    jobseeker = JobseekerFacts(
        target_group="dagpenge", birth_date=date(1985, 9, 12), unemployed_since=date(2026, 1, 15)
    )
    return replace(jobseeker, **changes)


def test_insured_unemployed_are_due_an_offer_after_six_months(rulebook: Rulebook) -> None:
    due = offer_due(_jobseeker(), rulebook)

    assert due is not None
    assert (due.due_on, due.continuous, due.deadline) == (date(2026, 7, 15), False, "insured_unemployed")


def test_young_without_education_on_social_assistance_have_a_continuous_right_and_duty(rulebook: Rulebook) -> None:
    young = _jobseeker(target_group="uddannelseshjaelp_education_ready", birth_date=date(1996, 1, 16))

    due = offer_due(young, rulebook)

    assert due is not None
    assert (due.due_on, due.continuous, due.deadline) == (date(2026, 1, 15), True, "young_without_education")


@pytest.mark.parametrize(
    "changes",
    [{"birth_date": date(1996, 1, 15)}, {"has_qualifying_education": True}],
    ids=["turned_thirty", "has_education"],
)
def test_no_deadline_in_the_data_for_social_assistance_from_thirty_or_with_education(
    rulebook: Rulebook, changes: dict[str, object]
) -> None:
    jobseeker = _jobseeker(target_group="kontanthjaelp_job_ready", **changes)

    assert offer_due(jobseeker, rulebook) is None


def test_keeps_the_deadline_of_the_version_in_force_when_unemployment_began(rules_dir: Path) -> None:
    (rules_dir / "activation_timeliness" / "2027-01-01.toml").write_text(
        'rule_set_version = "timeliness-2027.test"\n'
        "valid_from = 2027-01-01\n"
        'sources = ["test"]\n'
        'legal_reference = { act = "test act", paragraph = "§ 1" }\n'
        "[[deadlines]]\n"
        'name = "insured_unemployed"\n'
        'target_groups = ["insured_unemployed"]\n'
        "due_after_months = 3\n"
    )
    rulebook = Rulebook.load(rules_dir)

    before_change = offer_due(_jobseeker(unemployed_since=date(2026, 10, 1)), rulebook)
    after_change = offer_due(_jobseeker(unemployed_since=date(2027, 1, 4)), rulebook)

    assert before_change is not None and after_change is not None
    assert (before_change.due_on, before_change.rule_set_version) == (date(2027, 4, 1), "timeliness-2026.1")
    assert (after_change.due_on, after_change.rule_set_version) == (date(2027, 4, 4), "timeliness-2027.test")


def test_an_exempted_young_citizen_is_due_an_offer_when_the_exemption_window_ends(rulebook: Rulebook) -> None:
    young = _jobseeker(
        target_group="uddannelseshjaelp_education_ready",
        birth_date=date(2000, 2, 1),
        unemployed_since=date(2026, 8, 3),
        exempted=True,
    )

    due = offer_due(young, rulebook)

    assert due is not None
    assert (due.due_on, due.rule_set_version) == (date(2027, 2, 3), "timeliness-2026.1")


def test_exemption_does_not_apply_before_1_july_2026(rulebook: Rulebook) -> None:
    young = _jobseeker(
        target_group="uddannelseshjaelp_education_ready",
        birth_date=date(2000, 2, 1),
        unemployed_since=date(2026, 6, 30),
        exempted=True,
    )

    due = offer_due(young, rulebook)

    assert due is not None and due.due_on == date(2026, 6, 30)


def test_exemption_does_not_apply_to_groups_far_from_the_labour_market(rulebook: Rulebook) -> None:
    young = _jobseeker(
        target_group="uddannelseshjaelp_activity_ready",
        birth_date=date(2000, 2, 1),
        unemployed_since=date(2026, 8, 3),
        exempted=True,
    )

    due = offer_due(young, rulebook)

    assert due is not None and due.due_on == date(2026, 8, 3)


def test_municipality_may_exempt_a_quarter_from_1_july_2026(rulebook: Rulebook) -> None:
    assert exemption_quota(103, date(2026, 6, 30), rulebook) == 0
    assert exemption_quota(103, date(2026, 7, 1), rulebook) == 25
