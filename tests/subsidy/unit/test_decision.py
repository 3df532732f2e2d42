"""The automatic decision: own rules plus benefits' and activation's answers, one verdict listing every reason."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

from rules import Outcome, Rulebook
from services.subsidy import decision
from services.subsidy.domain import Actor, CitizenAnswer, PlanAnswer, PlanConflict, Role, RuleOutcome, Source, Verdict
from services.subsidy.eligibility import ExistingPlacement
from tests.subsidy.factories import Employer, internship, wage_subsidy
from tests.subsidy.unit.conftest import NOW, position, submitted

EMPLOYER = Actor(Role.EMPLOYER, "signer", cvr="12345678")
CASEWORKER = Actor(Role.CASEWORKER, "cw", municipality="751")

START = date(2026, 4, 6)


def _answer(target_group: str = "kontanthjaelp_job_ready", **changes) -> CitizenAnswer:
    answer = CitizenAnswer(uuid4(), NOW.date(), target_group, 40, True, None, ())
    return replace(answer, **changes)


FITS = PlanAnswer(())


def _answered(form: dict, answer: CitizenAnswer | None = None, plan: PlanAnswer = FITS):
    application = submitted(form)
    application.record_assessment(answer or _answer(), NOW)
    application.record_plan_check(plan, NOW)
    return application


def _by_rule(made: decision.Decision) -> dict[str, Outcome]:
    return {result.rule: result.outcome for result in made.results}


def test_approves_an_internship_when_every_rule_and_answer_passes(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(_answered(internship(employer, start=START)), (), rulebook, NOW)

    assert made.verdict is Verdict.APPROVED
    assert set(_by_rule(made)) == {
        "ratio",
        "internship_hours",
        "max_duration",
        "not_latest_employer",
        "no_plan_overlap",
        "start_after_decision",
    }


def test_rejects_listing_every_failed_rule_from_every_service(rulebook: Rulebook, employer: Employer) -> None:
    form = internship(employer, start=START, hours="40.00", weeks=6)
    benefits_failure = RuleOutcome("prior_unemployment", Outcome.FAILED, "too short", "pu-1", "benefits")
    plan = PlanAnswer((PlanConflict("recent_employer", "worked here until last month"),))

    made = decision.evaluate(_answered(form, _answer(results=(benefits_failure,)), plan), (), rulebook, NOW)

    assert made.verdict is Verdict.REJECTED
    assert {r.rule for r in made.failures} == {
        "internship_hours",
        "max_duration",
        "prior_unemployment",
        "not_latest_employer",
    }


def test_an_ineligible_citizen_without_a_failed_rule_still_fails(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(_answered(internship(employer, start=START), _answer(eligible=False)), (), rulebook, NOW)

    assert _by_rule(made)["citizen_eligible"] is Outcome.FAILED


def test_refers_a_public_employers_attestation_to_a_caseworker(rulebook: Rulebook, employer: Employer) -> None:
    form = wage_subsidy(employer, public=True, start=START, end=date(2026, 8, 5))

    made = decision.evaluate(_answered(form), (), rulebook, NOW)

    assert made.verdict is Verdict.REFERRED
    assert [r.rule for r in made.open_questions] == ["net_additional_employment.public_attestation"]


def test_refers_a_ratio_warning_the_applicant_overrode(rulebook: Rulebook, employer: Employer) -> None:
    leaving = (ExistingPlacement("internship", date(2026, 2, 2), START - timedelta(days=1)),)
    form = internship(employer, start=START, ordinary_fte="5.00", ratio_override_remark="She leaves before we start")

    made = decision.evaluate(_answered(form), leaving, rulebook, NOW)

    assert made.verdict is Verdict.REFERRED
    assert _by_rule(made)["ratio"] is Outcome.NEEDS_JUDGEMENT


def test_rejects_a_ratio_warning_not_overridden(rulebook: Rulebook, employer: Employer) -> None:
    leaving = (ExistingPlacement("internship", date(2026, 2, 2), START - timedelta(days=1)),)

    made = decision.evaluate(_answered(internship(employer, start=START, ordinary_fte="5.00")), leaving, rulebook, NOW)

    assert made.verdict is Verdict.REJECTED
    assert _by_rule(made)["ratio"] is Outcome.FAILED


def test_counts_pending_and_running_placements_at_the_production_unit(rulebook: Rulebook, employer: Employer) -> None:
    placed = tuple(ExistingPlacement("wage_subsidy", date(2026, 1, 5), None) for _ in range(4))

    made = decision.evaluate(_answered(internship(employer, start=START)), placed, rulebook, NOW)

    assert _by_rule(made)["ratio"] is Outcome.FAILED


def test_refers_when_benefits_allows_a_longer_stay_than_the_group_maximum(
    rulebook: Rulebook, employer: Employer
) -> None:
    form = internship(employer, start=START, weeks=8)

    made = decision.evaluate(_answered(form, _answer("dagpenge", max_duration_weeks=8)), (), rulebook, NOW)

    assert _by_rule(made)["max_duration"] is Outcome.NEEDS_JUDGEMENT
    assert made.verdict is Verdict.REFERRED


def test_missing_answers_are_questions_for_a_caseworker(rulebook: Rulebook, employer: Employer) -> None:
    application = submitted(internship(employer, start=START))
    application.record_plan_check(PlanAnswer(()), NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    assert _by_rule(made)["citizen_assessment"] is Outcome.NEEDS_JUDGEMENT
    assert made.inputs.answers_missing == ("citizen_assessment",)
    assert "max_duration" not in _by_rule(made)


def test_a_start_date_without_rule_data_needs_a_caseworker(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(_answered(internship(employer, start=date(2017, 6, 5))), (), rulebook, NOW)

    assert _by_rule(made)["rule_data"] is Outcome.NEEDS_JUDGEMENT


def test_refers_a_private_wage_subsidy_while_no_rate_is_known_for_its_start(
    rulebook: Rulebook, employer: Employer
) -> None:
    no_rates = wage_subsidy(employer, start=date(2022, 3, 7), end=date(2022, 8, 5))  # 2022: no rates held
    made = decision.evaluate(_answered(no_rates), (), rulebook, NOW)

    assert _by_rule(made)["state_aid_cap"] is Outcome.NEEDS_JUDGEMENT


def test_records_the_rule_set_versions_and_the_inputs(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(_answered(internship(employer, start=START)), (), rulebook, NOW)

    assert made.rule_set_versions == ("internship-2018.1", "ratio-2018.1")
    assert made.inputs.today == NOW.date()
    assert made.inputs.citizen.target_group == "kontanthjaelp_job_ready"
    assert made.inputs.application.production_unit.ordinary_fte == 20


def test_a_wage_subsidys_rule_set_versions_name_the_rates_the_state_aid_cap_read(
    rulebook: Rulebook, employer: Employer
) -> None:
    made = decision.evaluate(_answered(wage_subsidy(employer, start=START, end=date(2026, 9, 4))), (), rulebook, NOW)

    assert "subsidy-rates-2026.0-unconfirmed" in made.rule_set_versions
    assert "state-aid-2018.1" in made.rule_set_versions


def test_decides_a_position_on_the_employers_side_alone(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(position(internship(employer, start=START)), (), rulebook, NOW)

    assert made.verdict is Verdict.APPROVED
    assert set(_by_rule(made)) == {"ratio", "internship_hours", "max_duration.any_target_group", "start_after_decision"}
    assert made.inputs.citizen is None and made.inputs.answers_missing == ()


def test_rejects_a_position_listing_every_failed_employer_rule(rulebook: Rulebook, employer: Employer) -> None:
    form = wage_subsidy(employer, start=START, end=date(2026, 12, 1), ordinary_fte="4.00")
    form["employer"]["vacated_post_on"] = "2026-03-01"
    running = (ExistingPlacement("internship", date(2026, 2, 2), None),)

    made = decision.evaluate(position(form), running, rulebook, NOW)

    assert made.verdict is Verdict.REJECTED
    assert {r.rule for r in made.failures} == {
        "ratio",
        "net_additional_employment.vacated_post",
        "max_duration.any_target_group",
    }


def test_a_silent_representative_is_the_only_question_a_position_misses(rulebook: Rulebook, employer: Employer) -> None:
    made = decision.evaluate(position(internship(employer, start=START, employees=5)), (), rulebook, NOW)

    assert made.inputs.answers_missing == ("representative_approval",)


def test_a_named_positions_decision_asks_only_about_the_citizen(rulebook: Rulebook, employer: Employer) -> None:
    application = position(wage_subsidy(employer, public=True, start=START, end=date(2026, 8, 5)))
    application.record_decision(decision.evaluate(application, (), rulebook, NOW))
    application.decide_as_caseworker(True, "Erklæringen holder.", CASEWORKER, NOW)
    application.name_citizen("c-1", date(1990, 5, 17), "S-1", EMPLOYER, NOW, answer_timeout=timedelta(hours=1))
    application.record_assessment(_answer("dagpenge"), NOW)
    application.record_plan_check(FITS, NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    assert made.verdict is Verdict.APPROVED
    assert set(_by_rule(made)) == {"max_duration", "not_latest_employer", "no_plan_overlap", "start_after_decision"}


def test_a_named_position_still_fails_its_citizens_maximum(rulebook: Rulebook, employer: Employer) -> None:
    application = position(internship(employer, start=START, weeks=8))
    application.record_decision(decision.evaluate(application, (), rulebook, NOW))
    application.name_citizen("c-1", date(1990, 5, 17), "S-1", EMPLOYER, NOW, answer_timeout=timedelta(hours=1))
    application.record_assessment(_answer(), NOW)
    application.record_plan_check(FITS, NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    assert made.verdict is Verdict.REJECTED
    assert [r.rule for r in made.failures] == ["max_duration"]


def test_the_derivation_names_each_facts_source_and_the_event_it_came_in(
    rulebook: Rulebook, employer: Employer
) -> None:
    submitted_in, assessed_in, checked_in = uuid4(), uuid4(), uuid4()
    application = submitted(internship(employer, start=START))
    application.submitted_event_id = submitted_in
    application.record_assessment(_answer(event_id=assessed_in), NOW)
    application.record_plan_check(PlanAnswer((), event_id=checked_in), NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    steps = {step.rule: step for step in made.derivation}
    assert [step.rule for step in made.derivation] == [result.rule for result in made.results]
    assert [step.outcome for step in made.derivation] == [result.outcome for result in made.results]
    ratio = {fact.name: fact for fact in steps["ratio"].facts}
    assert (ratio["ordinary_fte"].source, ratio["ordinary_fte"].event_id) == (Source.EMPLOYER, submitted_in)
    assert ratio["placements_at_peak_with_this"].source is Source.SUBSIDY
    assert ratio["allowed_placements"].source is Source.RULE
    assert steps["ratio"].legal_reference is not None and "LAB-loven" in steps["ratio"].legal_reference
    duration = {fact.name: fact for fact in steps["max_duration"].facts}
    assert (duration["target_group"].source, duration["target_group"].event_id) == (Source.BENEFITS, assessed_in)
    assert steps["no_plan_overlap"].facts[0].event_id == checked_in


def test_a_caseworkers_verdict_ends_the_derivation_with_their_justification(
    rulebook: Rulebook, employer: Employer
) -> None:
    application = _answered(wage_subsidy(employer, start=START, public=True))
    application.record_decision(decision.evaluate(application, (), rulebook, NOW))

    application.decide_as_caseworker(True, "The attestation holds.", CASEWORKER, NOW)

    assert application.decision is not None
    last = application.decision.derivation[-1]
    assert last.rule == "caseworker_decision" and last.evaluated_by == "caseworker"
    verdict = {fact.name: fact for fact in last.facts}["verdict"]
    assert (verdict.value, verdict.source, verdict.justification) == (
        "approved",
        Source.CASEWORKER,
        "The attestation holds.",
    )


def test_every_result_has_its_step_in_the_derivation_and_benefits_rules_their_law(
    rulebook: Rulebook, employer: Employer
) -> None:
    prior = RuleOutcome("prior_unemployment", Outcome.PASSED, "reached", "prior-unemployment-2018.1", "benefits")
    application = submitted(wage_subsidy(employer, start=START))
    application.record_assessment(_answer(results=(prior,)), NOW)

    made = decision.evaluate(application, (), rulebook, NOW)

    assert [step.rule for step in made.derivation] == [result.rule for result in made.results]
    steps = {step.rule: step for step in made.derivation}
    assert steps["prior_unemployment"].legal_reference is not None
    assert "kapitel 12" in steps["prior_unemployment"].legal_reference
    assert steps["plan_check"].facts == () and steps["plan_check"].outcome is Outcome.NEEDS_JUDGEMENT
