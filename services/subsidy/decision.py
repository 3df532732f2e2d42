"""The automatic decision: this service's own rules, and the answers of benefits and activation, as one verdict.

Pure: the handler supplies the application, the placements already at its production unit, the rulebook and
the time. Rules whose data is missing for the start date need a caseworker rather than stopping the saga.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from rules import Outcome, Rulebook, RuleNotInForce, RuleResult, RuleVersion
from services.subsidy import eligibility, timing
from services.subsidy.domain import (
    NOT_RULE_DATA,
    Application,
    CitizenAnswer,
    Decider,
    Decision,
    DecisionInputs,
    Derivation,
    Evidence,
    PlanAnswer,
    RuleOutcome,
    Scheme,
    Source,
    State,
    Terms,
    verdict_of,
)

_PLAN_RULES = (
    ("not_latest_employer", "recent_employer", "the citizen has not recently worked for this employer"),
    ("no_plan_overlap", "overlapping_period", "the period overlaps no other offer in the citizen's plan"),
)
"""Result name, activation's conflict kind that fails it, and the reason when none is found."""


def evaluate(
    application: Application, placements: tuple[eligibility.ExistingPlacement, ...], rulebook: Rulebook, now: datetime
) -> Decision:
    """Every rule's result on what is known now; a missing answer is a question for a caseworker.

    A position is decided on the employer's side alone; once its citizen is named, that decision stands and only
    the rules about the citizen are left.
    """
    terms, today = application.terms, now.date()
    facts = application_facts(terms, placements)
    citizen = _citizen(application)
    try:
        if application.position_decision is None:
            own = _own_rules(terms, facts, citizen, rulebook, today)
        else:
            own = _citizen_duration(facts, citizen, rulebook)
        results = tuple(ratio_override(_recorded(result), terms.ratio_override_remark) for result in own)
    except RuleNotInForce as exc:
        own = ()
        results = (
            RuleOutcome("rule_data", Outcome.NEEDS_JUDGEMENT, f"a caseworker must decide: {exc}", NOT_RULE_DATA),
        )
    if application.assessment is not None:
        results = reconcile_duration(results, application.assessment, terms)
    derivation = tuple(
        _derived(raw, recorded.outcome, application) for raw, recorded in zip(own, results[: len(own)], strict=True)
    ) or tuple(_without_facts(result) for result in results)
    if application.assessment is not None:
        answered = _citizen_results(application.assessment)
        results += answered
        derivation += _answer_derivations(
            answered,
            "assessed_on",
            application.assessment.assessed_on.isoformat(),
            Source.BENEFITS,
            application.assessment.event_id,
            rulebook,
        )
    if application.plan_check is not None:
        checked = _plan_results(application.plan_check)
        results += checked
        derivation += _answer_derivations(
            checked,
            "conflicts",
            str(len(application.plan_check.conflicts)),
            Source.ACTIVATION,
            application.plan_check.event_id,
            rulebook,
        )
    started = timing.check_start(terms.starts_on, today)
    results += (started,)
    derivation += (_start_derivation(started, terms.starts_on, today),)
    missing = _missing_answers(application)
    unanswered = tuple(
        RuleOutcome(name, Outcome.NEEDS_JUDGEMENT, f"{who} had not answered by {now:%Y-%m-%d %H:%M} UTC", NOT_RULE_DATA)
        for name, who in missing
    )
    results += unanswered
    derivation += tuple(_without_facts(result) for result in unanswered)
    inputs = DecisionInputs(today, facts, citizen, terms.hourly_wage_costs_ore, tuple(name for name, _ in missing))
    return Decision(verdict_of(results), Decider.AUTOMATIC, now, results, inputs, derivation=derivation)


def application_facts(
    terms: Terms, placements: tuple[eligibility.ExistingPlacement, ...]
) -> eligibility.ApplicationFacts:
    """The application as the eligibility rules read it."""
    return eligibility.ApplicationFacts(
        scheme=terms.scheme,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        employer=eligibility.Employer(
            sector=terms.scheme.sector,
            monthly_ordinary_fte=terms.cvr_headcounts_fte,
            vacated_post_on=terms.vacated_post_on,
            net_addition_attested=terms.net_addition_attested,
        ),
        production_unit=eligibility.ProductionUnit(terms.ordinary_employees_fte, placements),
        weekly_hours=terms.weekly_hours,
        ratio_override_remark=terms.ratio_override_remark,
    )


def citizen_facts(birth_date: date, answer: CitizenAnswer) -> eligibility.CitizenFacts:
    """The citizen as benefits assessed them; whether they graduated recently is not in the answer.

    The unemployment start is the registry's date; only an answer from before benefits sent it is counted back
    in whole weeks.
    """
    since = answer.unemployed_since or answer.assessed_on - timedelta(weeks=answer.unemployed_weeks)
    return eligibility.CitizenFacts(target_group=answer.target_group, birth_date=birth_date, unemployed_since=since)


def _own_rules(
    terms: Terms,
    facts: eligibility.ApplicationFacts,
    citizen: eligibility.CitizenFacts | None,
    rulebook: Rulebook,
    today: date,
) -> tuple[RuleResult, ...]:
    """This service's rules on the application (RuleNotInForce where the data for the start date is missing)."""
    results = eligibility.evaluate(facts, citizen, rulebook, today)
    if terms.scheme is Scheme.INTERNSHIP:
        return results
    costs = Decimal(terms.hourly_wage_costs_ore or 0) / 100
    return (*results, eligibility.check_state_aid_cap(terms.scheme.sector, costs, terms.starts_on, rulebook))


def _citizen(application: Application) -> eligibility.CitizenFacts | None:
    """The citizen as the rules see them, once benefits has assessed them."""
    if application.assessment is None or application.birth_date is None:
        return None
    return citizen_facts(application.birth_date, application.assessment)


def _citizen_duration(
    facts: eligibility.ApplicationFacts, citizen: eligibility.CitizenFacts | None, rulebook: Rulebook
) -> tuple[RuleResult, ...]:
    """The one rule of this service that depends on the citizen: the maximum length for their target group."""
    return () if citizen is None else (eligibility.check_max_duration(facts, citizen, rulebook),)


_CITIZEN_FACTS = frozenset({"target_group", "unemployed_since", "newly_graduated", "under_integration_act"})
"""Facts about the citizen: benefits assessed them."""
_RECORDED_FACTS = frozenset({"placements_at_peak_with_this", "placements_today_with_this"})
"""Facts counted from this service's records of the placements at the production unit."""
_WORKED_OUT = frozenset({"allowed_placements", "latest_end", "hourly_rate_dkk", "rates_version", "max_hours_per_week"})
"""Facts a rule works out from its data and the other facts."""


def _derived(result: RuleResult, outcome: Outcome, application: Application) -> Derivation:
    """One of this service's rules as it was applied: each fact it read with its source and event."""
    return Derivation(
        rule=result.rule,
        outcome=outcome,
        rule_set_version=result.rule_set_version,
        legal_reference=None if result.legal_reference is None else str(result.legal_reference),
        evaluated_by="subsidy",
        facts=tuple(_evidence(fact.name, fact.value, application) for fact in result.facts),
    )


def _evidence(name: str, value: str, application: Application) -> Evidence:
    if name in _CITIZEN_FACTS:
        answer = application.assessment
        return Evidence(name, value, Source.BENEFITS, answer.event_id if answer else None)
    if name in _RECORDED_FACTS:
        return Evidence(name, value, Source.SUBSIDY)
    if name in _WORKED_OUT:
        return Evidence(name, value, Source.RULE)
    return Evidence(name, value, Source.EMPLOYER, application.submitted_event_id)


def _answer_derivations(
    results: tuple[RuleOutcome, ...], fact: str, value: str, source: Source, event_id: UUID | None, rulebook: Rulebook
) -> tuple[Derivation, ...]:
    """Another service's results: their rule, version and law, and the answer (its event) they came in."""
    evidence = (Evidence(fact, value, source, event_id),)
    return tuple(
        Derivation(r.rule, r.outcome, r.rule_set_version, _law(rulebook, r.rule_set_version), r.evaluated_by, evidence)
        for r in results
    )


def _start_derivation(result: RuleOutcome, starts_on: date, decided_on: date) -> Derivation:
    """The start-date rule: the employer's first day against the day of the decision."""
    facts = (
        Evidence("starts_on", starts_on.isoformat(), Source.EMPLOYER),
        Evidence("decided_on", decided_on.isoformat(), Source.RULE),
    )
    return Derivation(result.rule, result.outcome, result.rule_set_version, None, result.evaluated_by, facts)


def _without_facts(result: RuleOutcome) -> Derivation:
    """A result no rule worked out from facts: an answer not in, or rule data missing for the start date."""
    return Derivation(result.rule, result.outcome, result.rule_set_version, None, result.evaluated_by)


def _law(rulebook: Rulebook, rule_set_version: str) -> str | None:
    """The legal reference of the rule version another service named, where this service holds that version."""
    found = (v for v in rulebook.versions() if isinstance(v, RuleVersion) and v.rule_set_version == rule_set_version)
    version = next(found, None)
    return None if version is None else str(version.legal_reference)


def _recorded(result: RuleResult) -> RuleOutcome:
    return RuleOutcome(result.rule, result.outcome, result.reason, result.rule_set_version, also_read=result.also_read)


def ratio_override(result: RuleOutcome, remark: str | None) -> RuleOutcome:
    """A ratio warning the applicant overrode with a remark needs a caseworker; one not overridden fails."""
    if result.outcome is not Outcome.WARNING:
        return result
    return replace(result, outcome=Outcome.NEEDS_JUDGEMENT if remark else Outcome.FAILED)


def reconcile_duration(
    results: tuple[RuleOutcome, ...], answer: CitizenAnswer, terms: Terms
) -> tuple[RuleOutcome, ...]:
    """Benefits knows facts this service does not (a recent graduate): a longer maximum from it needs a caseworker."""
    allowed = answer.max_duration_weeks
    if allowed is None or terms.starts_on + timedelta(weeks=allowed) <= terms.ends_on:
        return results
    return tuple(
        replace(
            result,
            outcome=Outcome.NEEDS_JUDGEMENT,
            reason=f"{result.reason}; benefits allows this citizen {allowed} weeks",
        )
        if result.rule == "max_duration" and result.outcome is Outcome.FAILED
        else result
        for result in results
    )


def _citizen_results(answer: CitizenAnswer) -> tuple[RuleOutcome, ...]:
    """Benefits' own rule results; an ineligible citizen without a failed rule still fails."""
    results = answer.results
    if not answer.eligible and all(result.outcome is not Outcome.FAILED for result in results):
        results += (
            RuleOutcome(
                "citizen_eligible", Outcome.FAILED, "benefits found the citizen not eligible", NOT_RULE_DATA, "benefits"
            ),
        )
    return results


def _plan_results(answer: PlanAnswer) -> tuple[RuleOutcome, ...]:
    """Not at the citizen's latest employer, and not overlapping another offer in their plan."""
    version = answer.rule_set_version or NOT_RULE_DATA
    results = []
    for rule, kind, fine in _PLAN_RULES:
        found = [conflict.description for conflict in answer.conflicts if conflict.kind == kind]
        outcome = Outcome.FAILED if found else Outcome.PASSED
        results.append(RuleOutcome(rule, outcome, "; ".join(found) or fine, version, "activation"))
    known = {kind for _, kind, _ in _PLAN_RULES}
    unknown = [conflict.description for conflict in answer.conflicts if conflict.kind not in known]
    if unknown:
        results.append(RuleOutcome("plan_conflict", Outcome.NEEDS_JUDGEMENT, "; ".join(unknown), version, "activation"))
    return tuple(results)


def _missing_answers(application: Application) -> tuple[tuple[str, str], ...]:
    """The answers not (yet) in, as (result name, who should have answered)."""
    missing = []
    if application.state in (State.AWAITING_REPRESENTATIVE, State.POSITION_AWAITING_REPRESENTATIVE):
        missing.append(("representative_approval", "the employee representative"))
    if not application.citizen_named:
        return tuple(missing)  # no one to assess or plan for yet
    if application.assessment is None:
        missing.append(("citizen_assessment", "benefits"))
    if application.plan_check is None:
        missing.append(("plan_check", "activation"))
    return tuple(missing)
