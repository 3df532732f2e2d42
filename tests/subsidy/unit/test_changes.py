"""A changed placement re-runs every rule the change can affect, and is refused or left to a caseworker (D3)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from rules import Outcome, Rulebook
from services.subsidy import changes
from services.subsidy.domain import Application, ChangeRefused, CitizenAnswer, PlanAnswer, Scheme
from services.subsidy.eligibility import ExistingPlacement, HoursStep
from services.subsidy.eligibility import Scheme as RuleScheme
from tests.subsidy.factories import Employer, internship
from tests.subsidy.unit.conftest import NOW, submitted

START = date(2027, 3, 1)


def _running(employer: Employer, *, ordinary_fte: str = "20.00", answer: CitizenAnswer | None = None) -> Application:
    """A four-week internship of a job-ready citizen, assessed and fitting the plan."""
    application = submitted(internship(employer, start=START, weeks=4, ordinary_fte=ordinary_fte))
    application.record_assessment(answer or CitizenAnswer(uuid4(), START, "dagpenge", 40, True, None, ()), NOW)
    application.record_plan_check(PlanAnswer(()), NOW)
    return application


def _extended(application: Application, days: int) -> Application:
    application.terms = replace(application.terms, ends_on=application.terms.ends_on + timedelta(days=days))
    return application


def _outcomes(results) -> dict[str, Outcome]:
    return {result.rule: result.outcome for result in results}


def test_a_change_within_every_rule_is_allowed(rulebook: Rulebook, employer: Employer) -> None:
    application = _running(employer)
    application.terms = replace(application.terms, ends_on=application.terms.ends_on - timedelta(days=7))

    results = changes.recheck(application, (), (), rulebook, START)

    assert set(_outcomes(results)) == {"ratio", "max_duration", "internship_hours", "no_plan_overlap"}
    assert changes.questions(results, "extension_breaks_rule") == ()


def test_an_extension_past_the_maximum_breaks_the_duration_rule(rulebook: Rulebook, employer: Employer) -> None:
    results = changes.recheck(_extended(_running(employer), 7), (), (), rulebook, START)

    assert _outcomes(results)["max_duration"] is Outcome.FAILED
    with pytest.raises(ChangeRefused) as refused:
        changes.questions(results, "extension_breaks_rule")
    assert refused.value.code == "extension_breaks_rule"


def test_an_extension_into_another_placement_at_a_one_fte_unit_breaks_the_ratio(
    rulebook: Rulebook, employer: Employer
) -> None:
    application = _running(
        employer, ordinary_fte="1.00", answer=CitizenAnswer(uuid4(), START, "sygedagpenge", 40, True, None, ())
    )
    next_intern = ExistingPlacement(RuleScheme.INTERNSHIP, application.terms.ends_on + timedelta(days=1), None)

    results = changes.recheck(_extended(application, 14), (next_intern,), (), rulebook, START)

    assert _outcomes(results)["ratio"] is Outcome.FAILED


def test_an_extension_into_the_citizens_next_placement_is_refused(rulebook: Rulebook, employer: Employer) -> None:
    application = _running(employer, answer=CitizenAnswer(uuid4(), START, "sygedagpenge", 40, True, None, ()))
    following = application.terms.ends_on + timedelta(days=1)
    next_one = changes.CitizenPlacement(uuid4(), Scheme.INTERNSHIP, following, following + timedelta(weeks=4))

    results = changes.recheck(_extended(application, 14), (), (next_one,), rulebook, START)

    assert _outcomes(results)["no_plan_overlap"] is Outcome.FAILED
    assert str(next_one.application_id) in {r.rule: r.reason for r in results}["no_plan_overlap"]


def test_hours_above_the_weekly_limit_break_the_hours_rule(rulebook: Rulebook, employer: Employer) -> None:
    application = _running(employer)
    steps = (*application.terms.weekly_hours, HoursStep(START + timedelta(days=7), Decimal("40")))
    application.terms = replace(application.terms, weekly_hours=steps)

    results = changes.recheck(application, (), (), rulebook, START)

    assert _outcomes(results)["internship_hours"] is Outcome.FAILED


def test_a_longer_maximum_known_only_to_benefits_is_a_question_for_a_caseworker(
    rulebook: Rulebook, employer: Employer
) -> None:
    graduate = CitizenAnswer(uuid4(), START, "dagpenge", 2, True, 8, ())
    results = changes.recheck(_extended(_running(employer, answer=graduate), 14), (), (), rulebook, START)

    assert _outcomes(results)["max_duration"] is Outcome.NEEDS_JUDGEMENT
    assert [q.rule for q in changes.questions(results, "extension_breaks_rule")] == ["max_duration"]


def test_an_extension_at_a_unit_full_today_is_referred_with_the_employers_remark_and_refused_without(
    rulebook: Rulebook, employer: Employer
) -> None:
    application = _running(
        employer, ordinary_fte="1.00", answer=CitizenAnswer(uuid4(), START, "sygedagpenge", 40, True, None, ())
    )
    today = START - timedelta(days=30)
    running_today = ExistingPlacement(RuleScheme.INTERNSHIP, today, today + timedelta(days=13))
    remarked = replace(application, terms=replace(application.terms, ratio_override_remark="Praktikanten slutter"))

    referred = changes.recheck(_extended(remarked, 7), (running_today,), (), rulebook, today)
    refused = changes.recheck(_extended(application, 7), (running_today,), (), rulebook, today)

    assert [q.rule for q in changes.questions(referred, "extension_breaks_rule")] == ["ratio"]
    assert _outcomes(refused)["ratio"] is Outcome.FAILED
