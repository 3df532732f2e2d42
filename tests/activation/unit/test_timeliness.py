"""Timeliness (ret og pligt): when a citizen's offer is due, whether it was met, and who is overdue."""

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from rules import Rulebook
from services.activation.domain import CitizenFacts, timeliness
from services.activation.rules import Period

DAGPENGE_SINCE = date(2025, 10, 6)
DAGPENGE_DUE = date(2026, 4, 6)


def _facts(since: date = DAGPENGE_SINCE, **changes: Any) -> CitizenFacts:
    """A citizen assessed 10 weeks into the unemployment that began on `since`."""
    facts = CitizenFacts(
        target_group="dagpenge",
        birth_date=date(1980, 5, 17),
        assessed_on=since + timedelta(weeks=10),
        unemployed_weeks=10,
        has_qualifying_education=None,
    )
    return replace(facts, **changes)


def test_the_unemployment_began_the_weeks_of_unemployment_before_the_assessment() -> None:
    facts = _facts(assessed_on=date(2026, 3, 2), unemployed_weeks=8)

    assert facts.unemployed_since == date(2026, 1, 5)


def test_an_offer_starting_on_the_due_day_meets_the_deadline(rulebook: Rulebook) -> None:
    result = timeliness(_facts(), [Period(DAGPENGE_DUE, date(2026, 5, 1))], rulebook, on=date(2026, 6, 1))

    assert result is not None
    assert (result.deadline, result.due_on, result.met, result.next_due_on, result.overdue) == (
        "insured_unemployed", DAGPENGE_DUE, True, None, False,
    )  # fmt: skip


def test_without_an_offer_a_citizen_is_overdue_from_the_day_after_the_due_day(rulebook: Rulebook) -> None:
    on_due_day = timeliness(_facts(), [], rulebook, on=DAGPENGE_DUE)
    four_days_later = timeliness(_facts(), [], rulebook, on=DAGPENGE_DUE + timedelta(days=4))

    assert on_due_day is not None and four_days_later is not None
    assert (on_due_day.overdue, on_due_day.next_due_on) == (False, DAGPENGE_DUE)
    assert (four_days_later.overdue, four_days_later.overdue_days, four_days_later.met) == (True, 4, False)


def test_a_late_offer_misses_the_deadline_but_ends_the_overdue_state(rulebook: Rulebook) -> None:
    late = [Period(DAGPENGE_DUE + timedelta(days=10), date(2026, 6, 30))]

    before_it_starts = timeliness(_facts(), late, rulebook, on=DAGPENGE_DUE + timedelta(days=9))
    once_started = timeliness(_facts(), late, rulebook, on=DAGPENGE_DUE + timedelta(days=10))

    assert before_it_starts is not None and once_started is not None
    assert (before_it_starts.met, before_it_starts.overdue_days) == (False, 9)
    assert (once_started.met, once_started.overdue, once_started.next_due_on) == (False, False, None)


def test_an_offer_that_ended_before_the_unemployment_began_does_not_count(rulebook: Rulebook) -> None:
    old = [Period(date(2025, 1, 6), DAGPENGE_SINCE - timedelta(days=1))]

    result = timeliness(_facts(), old, rulebook, on=date(2026, 5, 1))

    assert result is not None and (result.met, result.overdue_days) == (False, 25)


YOUNG_SINCE = date(2026, 1, 5)


def _young(**changes: Any) -> CitizenFacts:
    facts = _facts(YOUNG_SINCE, target_group="kontanthjaelp_job_ready", birth_date=date(2000, 2, 1))
    return replace(facts, **changes)


def test_the_young_without_education_need_an_offer_again_as_soon_as_one_ends(rulebook: Rulebook) -> None:
    offers = [Period(YOUNG_SINCE, date(2026, 2, 13)), Period(date(2026, 2, 16), date(2026, 3, 13))]

    during = timeliness(_young(), offers, rulebook, on=date(2026, 3, 1))
    after = timeliness(_young(), offers, rulebook, on=date(2026, 3, 20))

    assert during is not None and after is not None
    assert (during.deadline, during.continuous, during.due_on, during.met) == (
        "young_without_education", True, YOUNG_SINCE, True,
    )  # fmt: skip
    assert (during.next_due_on, during.overdue) == (date(2026, 3, 14), False)
    assert (after.next_due_on, after.overdue_days) == (date(2026, 3, 14), 6)


def test_in_a_gap_between_offers_the_young_are_overdue_from_the_day_after_the_last_one(rulebook: Rulebook) -> None:
    offers = [Period(YOUNG_SINCE, date(2026, 1, 30)), Period(date(2026, 3, 2), date(2026, 3, 27))]

    result = timeliness(_young(), offers, rulebook, on=date(2026, 2, 10))

    assert result is not None and (result.next_due_on, result.overdue_days) == (date(2026, 1, 31), 10)


def test_an_unknown_education_counts_as_none_and_a_qualifying_one_lifts_the_deadline(rulebook: Rulebook) -> None:
    assert timeliness(_young(has_qualifying_education=None), [], rulebook, on=YOUNG_SINCE) is not None
    assert timeliness(_young(has_qualifying_education=True), [], rulebook, on=YOUNG_SINCE) is None


@pytest.mark.parametrize("target_group", ["sygedagpenge", "foertidspension"])
def test_groups_without_a_deadline_in_the_rule_data_have_no_timeliness(rulebook: Rulebook, target_group: str) -> None:
    assert timeliness(_facts(target_group=target_group), [], rulebook, on=date(2026, 6, 1)) is None


def test_unemployment_before_the_oldest_rule_version_has_no_timeliness(rulebook: Rulebook) -> None:
    assert timeliness(_facts(date(2017, 12, 4)), [], rulebook, on=date(2018, 8, 1)) is None


def test_the_deadline_follows_the_rule_version_in_force_when_the_unemployment_began(rules_dir: Path) -> None:
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
    on = date(2027, 5, 1)

    before = timeliness(_facts(date(2026, 12, 28)), [], rulebook, on)
    after = timeliness(_facts(date(2027, 1, 4)), [], rulebook, on)

    assert before is not None and after is not None
    assert (before.due_on, before.rule_set_version, before.overdue) == (date(2027, 6, 28), "timeliness-2026.1", False)
    assert (after.due_on, after.rule_set_version, after.overdue_days) == (date(2027, 4, 4), "timeliness-2027.test", 27)
