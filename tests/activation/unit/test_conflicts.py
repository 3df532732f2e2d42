"""Conflicts of an application with the citizen's plan and their other pending applications."""

from datetime import date

import pytest

from rules import REPOSITORY_RULES_DIR, PlanCheckRule, Rulebook
from services.activation.domain import ConflictKind, activation_id_for, conflicts
from tests.activation.unit.plan import application, entry, march

RULE = Rulebook.load(REPOSITORY_RULES_DIR).in_force(PlanCheckRule, march(1))


@pytest.mark.parametrize(
    ("start", "end", "collides"),
    [
        (march(11), march(20), False),  # touching: starts the day after the entry ends
        (date(2026, 2, 1), march(1), True),  # ends on the entry's first day
        (march(10), march(20), True),  # starts on the entry's last day
        (march(3), march(5), True),  # contained in the entry
        (date(2026, 2, 1), march(31), True),  # contains the entry
        (date(2026, 2, 1), date(2026, 2, 28), False),  # touching: ends the day before the entry starts
        (march(5), None, True),  # open-ended, starting during the entry
        (march(11), None, False),  # open-ended, starting after it
    ],
)
def test_an_application_collides_with_a_plan_entry_sharing_a_day(start: date, end: date | None, collides: bool) -> None:
    planned = entry(march(1), march(10))

    found = conflicts(application(start, end), [planned], [], RULE)

    assert [(c.kind, c.application_id) for c in found] == (
        [(ConflictKind.OVERLAPPING_PERIOD, planned.application_id)] if collides else []
    )


def test_a_conflict_names_the_entry_and_describes_it_for_the_caseworker() -> None:
    planned = entry(march(2), march(13), scheme="wage_subsidy_private")

    (found,) = conflicts(application(march(9), march(20)), [planned], [], RULE)

    assert found.activation_id == planned.activation_id == activation_id_for(planned.application_id)
    assert (found.scheme, found.period.start, found.period.end) == ("wage_subsidy_private", march(2), march(13))
    assert found.description == "Løntilskud hos privat arbejdsgiver 2026-03-02 til 2026-03-13 overlapper"


def test_an_entry_ended_early_no_longer_blocks_its_planned_weeks() -> None:
    ended = entry(march(1), march(31))
    ended.end(march(10), early=True)

    assert conflicts(application(march(11), march(20)), [ended], [], RULE) == []


def test_a_cancelled_entry_blocks_nothing() -> None:
    cancelled = entry(march(1), march(31))
    cancelled.cancel()

    assert conflicts(application(march(5), march(20)), [cancelled], [], RULE) == []


def test_another_pending_application_for_the_same_weeks_is_reported_but_not_the_application_itself() -> None:
    checked = application(march(1), march(31))
    other = application(march(20), date(2026, 4, 30), scheme="wage_subsidy_public")
    later = application(date(2026, 4, 1), date(2026, 4, 30))

    found = conflicts(checked, [], [checked, other, later], RULE)

    assert [(c.kind, c.application_id) for c in found] == [(ConflictKind.OVERLAPPING_APPLICATION, other.application_id)]
    assert found[0].description.endswith("overlapper en ansøgning under behandling")


def test_no_internship_at_the_employer_of_the_latest_wage_subsidy_job() -> None:
    job = entry(date(2025, 6, 1), date(2025, 11, 30), scheme="wage_subsidy_private", employer_cvr="87654321")

    found = conflicts(application(march(1), march(31), cvr="87654321"), [job], [], RULE)

    assert [(c.kind, c.application_id) for c in found] == [(ConflictKind.RECENT_EMPLOYER, job.application_id)]


@pytest.mark.parametrize(
    ("scheme", "cvr", "later_job_elsewhere"),
    [
        ("internship", "11112222", False),  # another employer
        ("wage_subsidy_private", "87654321", False),  # not an internship
        ("internship", "87654321", True),  # a later wage-subsidy job elsewhere is the latest
    ],
)
def test_an_earlier_wage_subsidy_employer_is_no_conflict_otherwise(
    scheme: str, cvr: str, later_job_elsewhere: bool
) -> None:
    plan = [entry(date(2025, 1, 1), date(2025, 5, 31), scheme="wage_subsidy_private", employer_cvr="87654321")]
    if later_job_elsewhere:
        plan.append(entry(date(2025, 8, 1), date(2025, 12, 31), scheme="wage_subsidy_public", employer_cvr="33334444"))

    assert conflicts(application(march(1), march(31), scheme=scheme, cvr=cvr), plan, [], RULE) == []


def test_without_plan_check_rules_in_force_only_overlaps_are_checked() -> None:
    job = entry(date(2025, 6, 1), date(2025, 11, 30), scheme="wage_subsidy_private", employer_cvr="87654321")

    assert conflicts(application(march(1), march(31), cvr="87654321"), [job], [], None) == []
