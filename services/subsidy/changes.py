"""A change to a running placement (an extension, new weekly hours) re-runs every rule the change can affect.

Pure: the handler supplies the changed application, the other placements at its production unit and the
citizen's other placements over the changed period. As for a new application, a failed rule refuses the change
and a rule needing judgement refers it to a caseworker (the placement runs on its terms until one decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from rules import InternshipRule, Outcome, RatioRule, Rulebook, RuleNotInForce, RuleResult
from services.subsidy import decision, eligibility
from services.subsidy.domain import NOT_RULE_DATA, Application, ChangeRefused, RuleOutcome, Scheme

OVERLAP = "no_plan_overlap"


@dataclass(frozen=True)
class CitizenPlacement:
    """Another application of the same citizen, pending, running or run, and the days it takes."""

    application_id: UUID
    scheme: Scheme
    starts_on: date
    ends_on: date


def recheck(
    application: Application,
    unit_placements: tuple[eligibility.ExistingPlacement, ...],
    citizen_placements: tuple[CitizenPlacement, ...],
    rulebook: Rulebook,
    today: date,
) -> tuple[RuleOutcome, ...]:
    """Every rule a changed period or schedule can break: the ratio at the production unit, the citizen's other
    placements, the maximum duration, the internship hours and the state-aid cap."""
    terms = application.terms
    facts = decision.application_facts(terms, unit_placements)
    try:
        results = [
            # Counted as for a new application, from today: a peak over the changed period breaks the rule; a unit
            # full today with room over the period warns, which the employer's remark refers to a caseworker.
            eligibility.check_ratio(facts, rulebook.in_force(RatioRule, terms.starts_on), today),
            _duration(application, facts, rulebook),
        ]
        if terms.scheme is Scheme.INTERNSHIP:
            internship = rulebook.in_force(InternshipRule, terms.starts_on)
            results.append(eligibility.check_internship_hours(facts, internship))
        else:
            costs = Decimal(terms.hourly_wage_costs_ore or 0) / 100
            results.append(eligibility.check_state_aid_cap(terms.scheme.sector, costs, terms.starts_on, rulebook))
    except RuleNotInForce as exc:
        return (RuleOutcome("rule_data", Outcome.NEEDS_JUDGEMENT, f"a caseworker must decide: {exc}", NOT_RULE_DATA),)
    recorded = tuple(decision.ratio_override(_recorded(result), terms.ratio_override_remark) for result in results)
    if application.assessment is not None:
        recorded = decision.reconcile_duration(recorded, application.assessment, terms)
    return (*recorded, _overlap(application, citizen_placements))


def questions(results: tuple[RuleOutcome, ...], code: str) -> tuple[RuleOutcome, ...]:
    """Refuse a change that breaks a rule (`code`); else the questions a caseworker must decide, none if the change
    is allowed as it is."""
    failed = [result.reason for result in results if result.outcome is Outcome.FAILED]
    if failed:
        raise ChangeRefused("The change breaks a rule: " + "; ".join(failed) + ".", code)
    return tuple(result for result in results if result.outcome is Outcome.NEEDS_JUDGEMENT)


def _duration(application: Application, facts: eligibility.ApplicationFacts, rulebook: Rulebook) -> RuleResult:
    """The citizen's own maximum once benefits assessed them; else the longest any target group may stay."""
    assessment, birth_date = application.assessment, application.birth_date
    if assessment is not None and birth_date is not None:
        return eligibility.check_max_duration(facts, decision.citizen_facts(birth_date, assessment), rulebook)
    longest = eligibility.check_longest_duration(facts, rulebook)
    if longest is None:
        return RuleResult("max_duration", Outcome.NEEDS_JUDGEMENT, "the citizen's maximum is not known", NOT_RULE_DATA)
    return longest


def _overlap(application: Application, others: tuple[CitizenPlacement, ...]) -> RuleOutcome:
    """The citizen can be in one placement at a time: no day shared with another of theirs."""
    terms = application.terms
    shared = [
        f"{other.scheme.value} {other.starts_on} to {other.ends_on} ({other.application_id})"
        for other in others
        if other.application_id != application.id
        and other.starts_on <= terms.ends_on
        and terms.starts_on <= other.ends_on
    ]
    if shared:
        return RuleOutcome(
            OVERLAP, Outcome.FAILED, "the period overlaps the citizen's " + "; ".join(shared), NOT_RULE_DATA
        )
    return RuleOutcome(OVERLAP, Outcome.PASSED, "the period overlaps no other placement of the citizen", NOT_RULE_DATA)


def _recorded(result: RuleResult) -> RuleOutcome:
    return RuleOutcome(result.rule, result.outcome, result.reason, result.rule_set_version)
