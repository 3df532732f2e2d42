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

    results = changes.recheck(application, (), (), rulebook)

    assert set(_outcomes(results)) == {"ratio", "max_duration", "internship_hours", "no_plan_overlap"}
    changes.require_allowed(results, "extension_breaks_rule")


def test_an_extension_past_the_maximum_breaks_the_duration_rule(rulebook: Rulebook, employer: Employer) -> None:
    results = changes.recheck(_extended(_running(employer), 7), (), (), rulebook)

    assert _outcomes(results)["max_duration"] is Outcome.FAILED
    with pytest.raises(ChangeRefused) as refused:
        changes.require_allowed(results, "extension_breaks_rule")
    assert refused.value.code == "extension_breaks_rule"


def test_an_extension_into_another_placement_at_a_one_fte_unit_breaks_the_ratio(
    rulebook: Rulebook, employer: Employer
) -> None:
    application = _running(
        employer, ordinary_fte="1.00", answer=CitizenAnswer(uuid4(), START, "sygedagpenge", 40, True, None, ())
    )
    next_intern = ExistingPlacement(RuleScheme.INTERNSHIP, application.terms.ends_on + timedelta(days=1), None)

    results = changes.recheck(_extended(application, 14), (next_intern,), (), rulebook)

    assert _outcomes(results)["ratio"] is Outcome.FAILED


def test_an_extension_into_the_citizens_next_placement_is_refused(rulebook: Rulebook, employer: Employer) -> None:
    application = _running(employer, answer=CitizenAnswer(uuid4(), START, "sygedagpenge", 40, True, None, ()))
    following = application.terms.ends_on + timedelta(days=1)
    next_one = changes.CitizenPlacement(uuid4(), Scheme.INTERNSHIP, following, following + timedelta(weeks=4))

    results = changes.recheck(_extended(application, 14), (), (next_one,), rulebook)

    assert _outcomes(results)["no_plan_overlap"] is Outcome.FAILED
    assert str(next_one.application_id) in {r.rule: r.reason for r in results}["no_plan_overlap"]


def test_hours_above_the_weekly_limit_break_the_hours_rule(rulebook: Rulebook, employer: Employer) -> None:
    application = _running(employer)
    steps = (*application.terms.weekly_hours, HoursStep(START + timedelta(days=7), Decimal("40")))
    application.terms = replace(application.terms, weekly_hours=steps)

    results = changes.recheck(application, (), (), rulebook)

    assert _outcomes(results)["internship_hours"] is Outcome.FAILED


def test_a_longer_maximum_known_only_to_benefits_needs_a_caseworker(rulebook: Rulebook, employer: Employer) -> None:
    graduate = CitizenAnswer(uuid4(), START, "dagpenge", 2, True, 8, ())
    results = changes.recheck(_extended(_running(employer, answer=graduate), 14), (), (), rulebook)

    assert _outcomes(results)["max_duration"] is Outcome.NEEDS_JUDGEMENT
    with pytest.raises(ChangeRefused) as refused:
        changes.require_allowed(results, "extension_breaks_rule")
    assert refused.value.code == "change_needs_caseworker"
