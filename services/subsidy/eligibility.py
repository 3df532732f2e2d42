"""Whether a subsidised placement may be granted: this service's rules applied to an application, pure.

The rules themselves (data, schema, function, examples) are in `rules/`; this module names the scheme applied for,
gathers the application's facts, picks each rule's version in force on the start date and calls the rule.
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
from rules.max_duration.rule import INTERNSHIP, WAGE_SUBSIDY
from rules.net_additional_employment import rule as net_addition
from rules.net_additional_employment.rule import Employer
from rules.ratio import rule as ratio
from rules.ratio.rule import ExistingPlacement, ProductionUnit, allowed_placements
from rules.state_aid.rule import check_cap


class Scheme(StrEnum):
    """The schemes an employer applies for; the values are those of the published events."""

    INTERNSHIP = "internship"
    WAGE_SUBSIDY_PRIVATE = "wage_subsidy_private"
    WAGE_SUBSIDY_PUBLIC = "wage_subsidy_public"

    @property
    def rule_scheme(self) -> str:
        """The scheme as the rules name it (rules/max_duration): the sector is the rules' other input."""
        return INTERNSHIP if self is Scheme.INTERNSHIP else WAGE_SUBSIDY

    @property
    def sector(self) -> Sector:
        """The employer's sector as the rules see it; only wage subsidy distinguishes public employers."""
        return Sector.PUBLIC if self is Scheme.WAGE_SUBSIDY_PUBLIC else Sector.PRIVATE


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
        application.scheme.rule_scheme,
        application.starts_on,
        application.ends_on,
        application.employer.sector,
        citizen.for_duration,
    )


def check_longest_duration(application: ApplicationFacts, rulebook: Rulebook) -> RuleResult | None:
    """A position's length against the longest maximum of any target group (rules/max_duration)."""
    return duration.check_any_target_group(
        rulebook,
        application.scheme.rule_scheme,
        application.starts_on,
        application.ends_on,
        application.employer.sector,
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


@dataclass(frozen=True)
class MissingRule:
    """A rule without which a month's subsidy cannot be worked out, and why."""

    rule: str
    detail: str


def missing_payment_rule(sector: Sector, month_start: date, rulebook: Rulebook) -> MissingRule | None:
    """What benefits would lack to pay a month of wage subsidy: a rate for the sector, or a state-aid cap, in force
    on the month's first day (the day benefits looks both up on); None when the month can be paid."""
    try:
        rulebook.in_force(SubsidyRates, month_start).hourly_rate(sector.value)
    except (RuleNotInForce, NotInRuleData) as exc:
        return MissingRule("subsidy_rates", str(exc))
    try:
        rulebook.in_force(StateAidRule, month_start)
    except RuleNotInForce as exc:
        return MissingRule("state_aid", str(exc))
    return None


def evaluate(
    application: ApplicationFacts, citizen: CitizenFacts | None, rulebook: Rulebook, today: date
) -> tuple[RuleResult, ...]:
    """Every rule of this service on the application; without a citizen, the longest stay any citizen could have.

    The verdict over them is `domain.verdict_of`: any failure rejects, listing every one; else any judgement refers.
    """
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
    else:
        net_addition_rule = rulebook.in_force(NetAdditionalEmploymentRule, on)
        results += [
            check_headcount(application.employer, net_addition_rule),
            check_vacated_post(application.employer, on, net_addition_rule),
            check_public_attestation(application.employer, net_addition_rule),
        ]
    if citizen is None:
        longest = check_longest_duration(application, rulebook)
        results += [longest] if longest else []
    else:
        results.append(check_max_duration(application, citizen, rulebook))
    return tuple(results)


__all__ = ["ExistingPlacement", "HoursStep", "ProductionUnit", "allowed_placements"]
"""The rules' inputs this service's other modules name through eligibility."""
