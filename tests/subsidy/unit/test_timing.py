"""A start before the decision: referred by the rules, approved by a caseworker only with a justification (D4)."""

from datetime import date, timedelta

import pytest

from rules import Outcome, Rulebook
from services.subsidy import decision, timing
from services.subsidy.domain import ChangeRefused, CitizenAnswer, PlanAnswer, Verdict
from tests.subsidy.factories import Employer, internship
from tests.subsidy.unit.conftest import NOW, submitted

TODAY = NOW.date()


def test_a_start_on_the_day_of_the_decision_passes() -> None:
    assert timing.check_start(TODAY, TODAY).outcome is Outcome.PASSED


def test_a_start_before_the_decision_needs_a_caseworker() -> None:
    result = timing.check_start(TODAY - timedelta(days=1), TODAY)

    assert result.outcome is Outcome.NEEDS_JUDGEMENT
    assert result.rule == "start_after_decision"


def test_the_rules_refer_a_period_that_began_years_ago(rulebook: Rulebook, employer: Employer) -> None:
    application = submitted(internship(employer, start=date(2021, 3, 1)))
    application.record_assessment(CitizenAnswer(application.id, TODAY, "dagpenge", 40, True, None, ()), NOW)
    application.record_plan_check(PlanAnswer(()), NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    assert made.verdict is Verdict.REFERRED
    assert [r.rule for r in made.open_questions] == ["start_after_decision"]


@pytest.mark.parametrize("exception", [None, "", "   "])
def test_a_caseworker_cannot_approve_an_early_start_without_a_justification(exception: str | None) -> None:
    with pytest.raises(ChangeRefused) as refused:
        timing.require_start_allowed(TODAY - timedelta(days=3), TODAY, exception)

    assert refused.value.code == "start_before_decision"


def test_a_justified_exception_or_a_later_start_lets_the_caseworker_approve() -> None:
    timing.require_start_allowed(TODAY - timedelta(days=3), TODAY, "started under the municipality's oral offer")
    timing.require_start_allowed(TODAY, TODAY, None)
