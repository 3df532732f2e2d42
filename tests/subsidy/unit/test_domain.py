"""The application's lifecycle: explicit states, allowed moves, and a 409-worthy refusal naming the state."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from rules import Outcome
from services.subsidy.domain import (
    TRANSITIONS,
    Actor,
    ChangeRefused,
    CitizenAnswer,
    Decider,
    Decision,
    LinkUsed,
    PlanAnswer,
    Role,
    RuleOutcome,
    State,
    TransitionNotAllowed,
    Verdict,
)
from services.subsidy.eligibility import HoursStep
from tests.subsidy.factories import Employer, internship, wage_subsidy
from tests.subsidy.unit.conftest import ANSWER_TIMEOUT, NOW, REPRESENTATIVE_DEADLINE, submitted

EMPLOYER = Actor(Role.EMPLOYER, "signer", cvr="12345678")
CASEWORKER = Actor(Role.CASEWORKER, "cw", municipality="751")
START = date(2026, 4, 6)
ANSWER = CitizenAnswer(uuid4(), date(2026, 3, 1), "dagpenge", 30, True, None, ())
FITS = PlanAnswer(())


def _decision(verdict: Verdict, outcome: Outcome = Outcome.PASSED) -> Decision:
    result = RuleOutcome("ratio", outcome, "reason", "ratio-2018.1")
    return Decision(verdict, Decider.AUTOMATIC, NOW, (result,), inputs=None)  # type: ignore[arg-type]


def _in_state(employer: Employer, state: State):
    """An application brought to `state` through the allowed moves."""
    application = submitted(internship(employer, start=START))
    moves = {
        State.ASSESSING: [],
        State.APPROVED: [lambda a: a.record_decision(_decision(Verdict.APPROVED))],
        State.REFERRED: [lambda a: a.record_decision(_decision(Verdict.REFERRED, Outcome.NEEDS_JUDGEMENT))],
        State.REJECTED: [lambda a: a.record_decision(_decision(Verdict.REJECTED, Outcome.FAILED))],
        State.CONFIRMED: [lambda a: a.record_decision(_decision(Verdict.APPROVED)), lambda a: a.confirm(EMPLOYER, NOW)],
        State.ENDED: [
            lambda a: a.record_decision(_decision(Verdict.APPROVED)),
            lambda a: a.confirm(EMPLOYER, NOW),
            lambda a: a.end(a.terms.ends_on, None, EMPLOYER, NOW),
        ],
        State.WITHDRAWN: [lambda a: a.withdraw(EMPLOYER, None, NOW)],
    }
    for move in moves[state]:
        move(application)
    assert application.state is state
    return application


def test_every_state_lists_its_allowed_moves() -> None:
    assert set(TRANSITIONS) == set(State)


def test_a_company_of_one_waits_for_the_answers_with_a_deadline(employer: Employer) -> None:
    application = submitted(internship(employer))

    assert application.state is State.ASSESSING
    assert application.deadline_at == NOW + ANSWER_TIMEOUT
    assert [change.action for change in application.changes] == ["submitted"]


def test_a_larger_company_waits_for_its_representative_first(employer: Employer) -> None:
    application = submitted(internship(employer, employees=12))

    assert application.state is State.AWAITING_REPRESENTATIVE
    assert application.representative_request is not None
    assert application.deadline_at == NOW + REPRESENTATIVE_DEADLINE


def test_a_larger_company_must_name_its_representative(employer: Employer) -> None:
    form = internship(employer, employees=12)
    del form["representative"]

    with pytest.raises(ChangeRefused) as refused:
        submitted(form)

    assert refused.value.code == "representative_missing"


def test_the_representatives_approval_starts_the_answer_deadline(employer: Employer) -> None:
    application = submitted(internship(employer, employees=12))
    request = application.representative_request
    later = NOW + timedelta(days=2)

    application.answer_as_representative(request.request_id, True, None, later, answer_timeout=ANSWER_TIMEOUT)

    assert application.state is State.ASSESSING
    assert application.deadline_at == later + ANSWER_TIMEOUT


def test_a_representatives_link_answers_once(employer: Employer) -> None:
    application = submitted(internship(employer, employees=12))
    request_id = application.representative_request.request_id
    application.answer_as_representative(request_id, False, "not heard", NOW, answer_timeout=ANSWER_TIMEOUT)

    with pytest.raises(LinkUsed):
        application.answer_as_representative(request_id, True, None, NOW, answer_timeout=ANSWER_TIMEOUT)
    assert application.state is State.DECLINED_BY_REPRESENTATIVE


def test_a_link_for_another_request_is_refused(employer: Employer) -> None:
    application = submitted(internship(employer, employees=12))

    with pytest.raises(ChangeRefused) as refused:
        application.answer_as_representative(uuid4(), True, None, NOW, answer_timeout=ANSWER_TIMEOUT)

    assert refused.value.code == "link_invalid"


def test_the_rules_decide_only_with_the_representative_and_both_answers(employer: Employer) -> None:
    application = submitted(internship(employer, employees=12))
    application.record_plan_check(FITS, NOW)
    application.record_assessment(ANSWER, NOW)
    assert not application.ready_to_decide

    request_id = application.representative_request.request_id
    application.answer_as_representative(request_id, True, None, NOW, answer_timeout=ANSWER_TIMEOUT)

    assert application.ready_to_decide


def test_a_repeated_answer_changes_nothing(employer: Employer) -> None:
    application = submitted(internship(employer))
    assert application.record_assessment(ANSWER, NOW)

    assert not application.record_assessment(replace(ANSWER, target_group="sygedagpenge"), NOW)
    assert application.assessment == ANSWER


def test_an_answer_after_the_decision_changes_nothing(employer: Employer) -> None:
    application = _in_state(employer, State.APPROVED)

    assert not application.record_plan_check(FITS, NOW)
    assert application.plan_check is None


def test_a_late_answer_to_a_referred_case_is_kept_for_the_caseworker(employer: Employer) -> None:
    application = _in_state(employer, State.REFERRED)

    assert application.record_assessment(ANSWER, NOW)
    assert application.state is State.REFERRED


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (State.ASSESSING, lambda a: a.confirm(EMPLOYER, NOW)),
        (State.REFERRED, lambda a: a.confirm(EMPLOYER, NOW)),
        (State.APPROVED, lambda a: a.extend(date(2026, 6, 1), EMPLOYER, NOW)),
        (State.APPROVED, lambda a: a.decide_as_caseworker(True, "fine", CASEWORKER, NOW)),
        (State.REJECTED, lambda a: a.withdraw(EMPLOYER, None, NOW)),
        (State.CONFIRMED, lambda a: a.withdraw(EMPLOYER, None, NOW)),
        (State.ENDED, lambda a: a.end(a.terms.ends_on, None, EMPLOYER, NOW)),
        (State.WITHDRAWN, lambda a: a.record_decision(_decision(Verdict.APPROVED))),
        (State.CONFIRMED, lambda a: a.confirm(EMPLOYER, NOW)),
        (State.APPROVED, lambda a: a.change_hours((HoursStep(START, Decimal(10)),), EMPLOYER, NOW)),
    ],
)
def test_a_disallowed_move_names_the_current_state(employer: Employer, state: State, command) -> None:
    application = _in_state(employer, state)

    with pytest.raises(TransitionNotAllowed) as refused:
        command(application)

    assert refused.value.current is state
    assert state.value.replace("_", " ") in str(refused.value)
    assert application.state is state


def test_a_caseworker_decides_a_referred_case_keeping_the_rule_results(employer: Employer) -> None:
    application = _in_state(employer, State.REFERRED)
    results = application.decision.results

    application.decide_as_caseworker(False, "Rimelighedskravet er ikke opfyldt.", CASEWORKER, NOW)

    assert application.state is State.REJECTED
    assert application.decision.decided_by is Decider.CASEWORKER
    assert application.decision.results == results
    assert application.changes[-1].actor == "caseworker:cw"


def test_an_extension_must_end_later(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)

    with pytest.raises(ChangeRefused) as refused:
        application.extend(application.terms.ends_on, EMPLOYER, NOW)

    assert refused.value.code == "extension_not_later"


def test_an_extension_keeps_the_placement_confirmed_and_returns_the_old_end(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)
    old_end = application.terms.ends_on

    assert application.extend(old_end + timedelta(days=7), EMPLOYER, NOW) == old_end
    assert application.state is State.CONFIRMED


def test_an_hours_change_keeps_the_steps_before_it(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)
    first = application.terms.weekly_hours[0]
    step = HoursStep(START + timedelta(days=14), Decimal(20))

    application.change_hours((step,), EMPLOYER, NOW)

    assert application.terms.weekly_hours == (first, step)


def test_an_early_end_needs_a_reason(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)

    with pytest.raises(ChangeRefused) as refused:
        application.end(START + timedelta(days=3), None, EMPLOYER, NOW)

    assert refused.value.code == "end_reason"


def test_a_wage_report_covers_the_part_of_a_past_month_within_the_placement(employer: Employer) -> None:
    application = submitted(wage_subsidy(employer, start=date(2026, 3, 16), end=date(2026, 7, 15)))
    application.record_decision(_decision(Verdict.APPROVED))
    application.confirm(EMPLOYER, NOW)

    assert application.report_wages(2026, 3, EMPLOYER, NOW.replace(month=4)) == (date(2026, 3, 16), date(2026, 3, 31))
    with pytest.raises(ChangeRefused) as not_over:
        application.report_wages(2026, 4, EMPLOYER, NOW.replace(month=4, day=30))
    with pytest.raises(ChangeRefused) as outside:
        application.report_wages(2026, 8, EMPLOYER, NOW.replace(month=9))

    assert (not_over.value.code, outside.value.code) == ("month_not_over", "month_outside_placement")


def test_an_internship_has_no_wage_reports(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)

    with pytest.raises(ChangeRefused) as refused:
        application.report_wages(2026, 4, EMPLOYER, NOW.replace(month=6))

    assert refused.value.code == "not_a_wage_subsidy"
