"""Whether a subsidised placement may be granted: the eligibility rules as pure functions over plain facts.

Every rule is read from the rule version in force on the placement's start date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rules import (
    InternshipRule,
    NetAdditionalEmploymentRule,
    NotInRuleData,
    Outcome,
    RatioRule,
    Rulebook,
    RuleNotInForce,
    RuleResult,
    Sector,
    StateAidRule,
    SubsidyRates,
)
from rules.internship.rule import HoursStep, check_hours
from rules.max_duration import rule as duration
from rules.net_additional_employment import rule as net_addition
from rules.net_additional_employment.rule import Employer
from rules.ratio import rule as ratio
from rules.ratio.rule import ExistingPlacement, ProductionUnit, allowed_placements
from rules.state_aid.rule import check_cap


class Scheme(StrEnum):
    """The kinds of supported placement; all three count toward the ratio rule."""

    INTERNSHIP = "internship"
    WAGE_SUBSIDY = "wage_subsidy"
    UTILITY_WORK = "utility_work"


class Verdict(StrEnum):
    """What the rules together say about an application."""

    APPROVE = "approve"
    REJECT = "reject"
    REFER_TO_CASEWORKER = "refer_to_caseworker"


@dataclass(frozen=True)
class ApplicationFacts:
    """What an application states about the placement and the employer."""

    scheme: Scheme
    starts_on: date
    ends_on: date
    employer: Employer
    production_unit: ProductionUnit
    weekly_hours: tuple[HoursStep, ...] = ()
    ratio_override_remark: str | None = None


@dataclass(frozen=True)
class CitizenFacts:
    """What the rules need to know about the named citizen."""

    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    newly_graduated: bool = False
    under_integration_act: bool = False

    @property
    def for_duration(self) -> duration.Citizen:
        """The citizen as the maximum-duration rule reads them."""
        return duration.Citizen(self.target_group, self.birth_date, self.unemployed_since, self.newly_graduated)


@dataclass(frozen=True)
class Decision:
    """The combined verdict, every rule's result, and the rules left until a citizen is named."""

    verdict: Verdict
    results: tuple[RuleResult, ...]
    deferred_rules: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        """The results that make this a rejection."""
        return tuple(result for result in self.results if result.outcome is Outcome.FAILED)


def check_ratio(
    application: ApplicationFacts, rule: RatioRule, today: date, *, under_integration_act: bool = False
) -> RuleResult:
    """The ratio rule on the application's production unit and period (rules/ratio)."""
    return ratio.check(
        rule,
        application.production_unit,
        application.starts_on,
        application.ends_on,
        today,
        override_remark=application.ratio_override_remark,
        under_integration_act=under_integration_act,
    )


def check_headcount(employer: Employer, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: the headcount has not fallen (rules/net_additional_employment)."""
    return net_addition.check_headcount(rule, employer)


def check_vacated_post(employer: Employer, starts_on: date, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: no recently vacated post is refilled (rules/net_additional_employment)."""
    return net_addition.check_vacated_post(rule, employer, starts_on)


def check_public_attestation(employer: Employer, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: a public employer's attestation (rules/net_additional_employment)."""
    return net_addition.check_public_attestation(rule, employer)


def check_max_duration(application: ApplicationFacts, citizen: CitizenFacts, rulebook: Rulebook) -> RuleResult:
    """The maximum length for the scheme, the citizen's group and the sector (rules/max_duration)."""
    return duration.check(
        rulebook,
        application.scheme,
        application.starts_on,
        application.ends_on,
        application.employer.sector,
        citizen.for_duration,
    )


def check_longest_duration(application: ApplicationFacts, rulebook: Rulebook) -> RuleResult | None:
    """A position's length against the longest maximum of any target group (rules/max_duration)."""
    return duration.check_any_target_group(
        rulebook, application.scheme, application.starts_on, application.ends_on, application.employer.sector
    )


def check_internship_hours(application: ApplicationFacts, rule: InternshipRule) -> RuleResult:
    """The weekly-hours schedule against the internship's limit (rules/internship)."""
    return check_hours(rule, application.starts_on, application.ends_on, application.weekly_hours)


def check_state_aid_cap(sector: Sector, hourly_wage_costs: Decimal, starts_on: date, rulebook: Rulebook) -> RuleResult:
    """The state-aid cap with the rates in force on the start date (rules/state_aid)."""
    try:
        rates: SubsidyRates | NotInRuleData = rulebook.in_force(SubsidyRates, starts_on)
    except RuleNotInForce as exc:
        rates = NotInRuleData(str(exc))
    return check_cap(rulebook.in_force(StateAidRule, starts_on), rates, sector, hourly_wage_costs)


def evaluate(application: ApplicationFacts, citizen: CitizenFacts | None, rulebook: Rulebook, today: date) -> Decision:
    """Combine the rules: any failure rejects, listing every one; else any judgement refers; else approve."""
    on = application.starts_on
    results = [
        check_ratio(
            application,
            rulebook.in_force(RatioRule, on),
            today,
            under_integration_act=citizen is not None and citizen.under_integration_act,
        )
    ]
    if application.scheme is Scheme.INTERNSHIP:
        results.append(check_internship_hours(application, rulebook.in_force(InternshipRule, on)))
    if application.scheme is Scheme.WAGE_SUBSIDY:
        net_addition_rule = rulebook.in_force(NetAdditionalEmploymentRule, on)
        results += [
            check_headcount(application.employer, net_addition_rule),
            check_vacated_post(application.employer, on, net_addition_rule),
            check_public_attestation(application.employer, net_addition_rule),
        ]
    deferred: tuple[str, ...] = ()
    if application.scheme is not Scheme.UTILITY_WORK:
        if citizen is None:
            deferred = ("max_duration",)
            longest = check_longest_duration(application, rulebook)
            results += [longest] if longest else []
        else:
            results.append(check_max_duration(application, citizen, rulebook))
    return Decision(_verdict(results), tuple(results), deferred)


def _verdict(results: list[RuleResult]) -> Verdict:
    outcomes = {result.outcome for result in results}
    if Outcome.FAILED in outcomes:
        return Verdict.REJECT
    if Outcome.NEEDS_JUDGEMENT in outcomes:
        return Verdict.REFER_TO_CASEWORKER
    return Verdict.APPROVE


__all__ = ["ExistingPlacement", "HoursStep", "ProductionUnit", "allowed_placements"]
