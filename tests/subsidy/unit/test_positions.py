"""An application for a position: decided on the employer's side, then a citizen is named and it goes on as usual."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from rules import Outcome
from services.subsidy.domain import (
    Actor,
    Application,
    CitizenAnswer,
    Decider,
    Decision,
    PlanAnswer,
    Role,
    RuleOutcome,
    State,
    TransitionNotAllowed,
    Verdict,
)
from tests.subsidy.factories import Employer, internship
from tests.subsidy.unit.conftest import ANSWER_TIMEOUT, NOW, REPRESENTATIVE_DEADLINE, position, submitted

EMPLOYER = Actor(Role.EMPLOYER, "signer", cvr="12345678")
CASEWORKER = Actor(Role.CASEWORKER, "cw", municipality="751")
START = date(2026, 4, 6)
BIRTH = date(1990, 5, 17)
ANSWER = CitizenAnswer(uuid4(), date(2026, 3, 1), "dagpenge", 30, True, None, ())


def _decision(verdict: Verdict, outcome: Outcome = Outcome.PASSED) -> Decision:
    result = RuleOutcome("ratio", outcome, "reason", "ratio-2018.1")
    return Decision(verdict, Decider.AUTOMATIC, NOW, (result,), inputs=None)  # type: ignore[arg-type]


def _named(application: Application) -> None:
    application.name_citizen("c-0123456789abcdef", BIRTH, "S-2291", EMPLOYER, NOW, answer_timeout=ANSWER_TIMEOUT)


def _position_in(employer: Employer, state: State) -> Application:
    """A position brought to `state` through the allowed moves."""
    application = position(internship(employer, start=START))
    moves = {
        State.POSITION_ASSESSING: [],
        State.POSITION_APPROVED: [lambda a: a.record_decision(_decision(Verdict.APPROVED))],
        State.POSITION_REFERRED: [lambda a: a.record_decision(_decision(Verdict.REFERRED, Outcome.NEEDS_JUDGEMENT))],
        State.POSITION_REJECTED: [lambda a: a.record_decision(_decision(Verdict.REJECTED, Outcome.FAILED))],
        State.ASSESSING: [lambda a: a.record_decision(_decision(Verdict.APPROVED)), _named],
        State.WITHDRAWN: [
            lambda a: a.record_decision(_decision(Verdict.APPROVED)),
            lambda a: a.withdraw(EMPLOYER, None, NOW),
        ],
    }
    for move in moves[state]:
        move(application)
    assert application.state is state
    return application


def test_a_position_of_a_company_of_one_is_ready_for_the_rules_at_once(employer: Employer) -> None:
    application = position(internship(employer))

    assert application.state is State.POSITION_ASSESSING
    assert application.ready_to_decide
    assert (application.citizen_ref, application.birth_date, application.terms.consent_reference) == (None, None, None)
    assert [change.action for change in application.changes] == ["position_submitted"]


def test_a_position_of_a_larger_company_waits_for_its_representative_first(employer: Employer) -> None:
    application = position(internship(employer, employees=6))

    assert application.state is State.POSITION_AWAITING_REPRESENTATIVE
    assert application.deadline_at == NOW + REPRESENTATIVE_DEADLINE
    assert not application.ready_to_decide


@pytest.mark.parametrize(
    ("approve", "state"), [(True, State.POSITION_ASSESSING), (False, State.DECLINED_BY_REPRESENTATIVE)]
)
def test_the_representatives_answer_moves_a_position_to_its_own_next_state(
    employer: Employer, approve: bool, state: State
) -> None:
    application = position(internship(employer, employees=6))
    request_id = application.representative_request.request_id

    application.answer_as_representative(
        request_id, approve, None if approve else "no", NOW, answer_timeout=ANSWER_TIMEOUT
    )

    assert application.state is state
    assert application.ready_to_decide is approve


@pytest.mark.parametrize(
    ("verdict", "state"),
    [
        (Verdict.APPROVED, State.POSITION_APPROVED),
        (Verdict.REFERRED, State.POSITION_REFERRED),
        (Verdict.REJECTED, State.POSITION_REJECTED),
    ],
)
def test_the_rules_decide_a_position_as_the_positions_decision(
    employer: Employer, verdict: Verdict, state: State
) -> None:
    application = position(internship(employer))

    application.record_decision(_decision(verdict))

    assert application.state is state
    assert application.position_decision.verdict is verdict
    assert application.decision is None


def test_a_silent_representative_refers_the_position(employer: Employer) -> None:
    application = position(internship(employer, employees=6))

    application.refer_after_deadline(_decision(Verdict.APPROVED))

    assert application.state is State.POSITION_REFERRED
    assert application.position_decision.verdict is Verdict.REFERRED


@pytest.mark.parametrize(("approve", "state"), [(True, State.POSITION_APPROVED), (False, State.POSITION_REJECTED)])
def test_a_caseworker_decides_a_referred_position(employer: Employer, approve: bool, state: State) -> None:
    application = _position_in(employer, State.POSITION_REFERRED)

    application.decide_as_caseworker(approve, "Stillingen er ny.", CASEWORKER, NOW)

    assert application.state is state
    assert application.position_decision.decided_by is Decider.CASEWORKER
    assert application.position_decision.remark == "Stillingen er ny."
    assert application.decision is None


def test_naming_the_citizen_of_an_approved_position_starts_the_ordinary_assessment(employer: Employer) -> None:
    application = _position_in(employer, State.POSITION_APPROVED)
    later = NOW + timedelta(days=5)

    application.name_citizen("c-0123456789abcdef", BIRTH, "S-2291", EMPLOYER, later, answer_timeout=ANSWER_TIMEOUT)

    assert application.state is State.ASSESSING
    assert (application.citizen_ref, application.birth_date) == ("c-0123456789abcdef", BIRTH)
    assert application.terms.consent_reference == "S-2291"
    assert application.deadline_at == later + ANSWER_TIMEOUT
    assert application.changes[-1].action == "citizen_named"


def test_a_named_positions_decision_is_the_ordinary_one_and_the_positions_stays(employer: Employer) -> None:
    application = _position_in(employer, State.ASSESSING)
    application.record_assessment(ANSWER, NOW)
    application.record_plan_check(PlanAnswer(()), NOW)
    assert application.ready_to_decide

    application.record_decision(_decision(Verdict.APPROVED))
    application.confirm(EMPLOYER, NOW)

    assert application.state is State.CONFIRMED
    assert application.decision.verdict is Verdict.APPROVED
    assert application.position_decision.verdict is Verdict.APPROVED


def test_a_position_ignores_answers_about_a_citizen(employer: Employer) -> None:
    application = _position_in(employer, State.POSITION_APPROVED)

    assert not application.record_assessment(ANSWER, NOW)
    assert not application.record_plan_check(PlanAnswer(()), NOW)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (State.POSITION_REJECTED, _named),
        (State.POSITION_REFERRED, _named),
        (State.POSITION_ASSESSING, _named),
        (State.ASSESSING, _named),
        (State.WITHDRAWN, _named),
        (State.POSITION_APPROVED, lambda a: a.confirm(EMPLOYER, NOW)),
        (State.POSITION_APPROVED, lambda a: a.decide_as_caseworker(True, "fine", CASEWORKER, NOW)),
        (State.POSITION_REJECTED, lambda a: a.withdraw(EMPLOYER, None, NOW)),
        (State.POSITION_APPROVED, lambda a: a.record_decision(_decision(Verdict.APPROVED))),
    ],
)
def test_a_disallowed_move_of_a_position_names_its_current_state(employer: Employer, state: State, command) -> None:
    application = _position_in(employer, state)

    with pytest.raises(TransitionNotAllowed) as refused:
        command(application)

    assert refused.value.current is state
    assert state.value.replace("_", " ") in str(refused.value)
    assert application.state is state


def test_a_named_application_cannot_be_named_again(employer: Employer) -> None:
    application = submitted(internship(employer))

    with pytest.raises(TransitionNotAllowed):
        _named(application)
