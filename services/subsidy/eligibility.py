"""Whether a subsidised placement may be granted: the eligibility rules as pure functions over plain facts.

Every rule is read from the rule version in force on the placement's start date.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from math import floor

from jobbro.rulebook import (
    InternshipRule,
    NetAdditionalEmploymentRule,
    NotInRuleData,
    Outcome,
    RatioRule,
    Rulebook,
    RuleNotInForce,
    RuleResult,
    RuleVersion,
    Sector,
    StateAidRule,
    SubsidyRates,
    TargetGroups,
    WageSubsidyDurationRule,
    months_later,
)


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
class ExistingPlacement:
    """A supported person already placed at the production unit; an open end means it has not ended."""

    scheme: Scheme
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class ProductionUnit:
    """The workplace (P-number): its ordinary staff in full-time equivalents and its supported persons."""

    ordinary_fte: Decimal
    placements: tuple[ExistingPlacement, ...] = ()


@dataclass(frozen=True)
class Employer:
    """The company (CVR number) as the net-additional-employment rule sees it."""

    sector: Sector
    monthly_ordinary_fte: tuple[Decimal, ...] = ()
    """Ordinary headcount in FTE per month, oldest first; the last entry is last month."""
    vacated_post_on: date | None = None
    """When the post this placement fills was vacated by a dismissal or resignation, if it was."""
    net_addition_attested: bool = False
    """A public employer's signed attestation that the post is additional."""


@dataclass(frozen=True)
class HoursStep:
    """Weekly hours from a date until the next step, so hours can step up during an internship."""

    starts_on: date
    hours_per_week: Decimal


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


def allowed_placements(ordinary_fte: Decimal, rule: RatioRule) -> int:
    """How many supported persons a production unit may host (the ratio rule)."""
    limit = Decimal(rule.tier_limit_fte)
    up_to_limit = floor(min(ordinary_fte, limit) / rule.fte_per_placement_up_to_limit)
    above_limit = floor(max(ordinary_fte - limit, Decimal(0)) / rule.fte_per_placement_above_limit)
    return max(rule.minimum_placements, up_to_limit + above_limit)


def check_ratio(
    application: ApplicationFacts, rule: RatioRule, today: date, *, under_integration_act: bool = False
) -> RuleResult:
    """Whether the production unit has room for one more supported person on every day of the period.

    The placements are counted at their peak within the period; a unit full today that has room throughout the
    period (a placement ends before the start date) gives a warning the applicant may override with a remark.
    """
    if under_integration_act:
        return _result("ratio", Outcome.PASSED, "persons under the integration act are not checked", rule)
    unit = application.production_unit
    allowed = allowed_placements(unit.ordinary_fte, rule)
    peak, peak_day = _peak(unit.placements, application.starts_on, application.ends_on)
    with_this_at_peak = peak + 1
    with_this_now = _placed_on(unit, today) + 1
    counted = f"for {unit.ordinary_fte} ordinary FTE the production unit may host {allowed} supported persons"
    period = f"from {application.starts_on} to {application.ends_on}"
    if with_this_at_peak > allowed:
        return _result(
            "ratio",
            Outcome.FAILED,
            f"busiest on {peak_day}: {counted}; with this placement it would host {with_this_at_peak}",
            rule,
        )
    if with_this_now > allowed:
        remark = application.ratio_override_remark
        override = f"the applicant overrode it: {remark!r}" if remark else "the applicant may override it with a remark"
        return _result(
            "ratio",
            Outcome.WARNING,
            f"{counted}; with this placement it hosts {with_this_now} today but at most {with_this_at_peak} {period}; "
            f"{override}",
            rule,
        )
    return _result(
        "ratio", Outcome.PASSED, f"{counted}; with this placement it hosts at most {with_this_at_peak} {period}", rule
    )


def check_headcount(employer: Employer, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: last month's ordinary headcount is at least the average of the lookback."""
    months = rule.headcount_lookback_months
    history = employer.monthly_ordinary_fte[-months:]
    if len(history) < months:
        return _result(
            "net_additional_employment.headcount",
            Outcome.NEEDS_JUDGEMENT,
            f"only {len(history)} months of headcount are known; the rule compares with {months}",
            rule,
        )
    last, total = history[-1], sum(history, Decimal(0))
    average = (total / months).quantize(Decimal("0.01"))
    if last * months >= total:
        return _result(
            "net_additional_employment.headcount",
            Outcome.PASSED,
            f"last month's {last} ordinary FTE is at least the {months}-month average of {average}",
            rule,
        )
    return _result(
        "net_additional_employment.headcount",
        Outcome.FAILED,
        f"last month's {last} ordinary FTE is below the {months}-month average of {average}",
        rule,
    )


def check_vacated_post(employer: Employer, starts_on: date, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: the post does not replace one vacated by dismissal or resignation recently."""
    window_opens = months_later(starts_on, -rule.vacated_post_window_months)
    vacated = employer.vacated_post_on
    if vacated is not None and vacated >= window_opens:
        return _result(
            "net_additional_employment.vacated_post",
            Outcome.FAILED,
            f"the post was vacated by a dismissal or resignation on {vacated}, within "
            f"{rule.vacated_post_window_months} months before the start date {starts_on}",
            rule,
        )
    return _result(
        "net_additional_employment.vacated_post",
        Outcome.PASSED,
        f"no post vacated by a dismissal or resignation since {window_opens}",
        rule,
    )


def check_public_attestation(employer: Employer, rule: NetAdditionalEmploymentRule) -> RuleResult:
    """Net additional employment: a public employer's attestation, which only a caseworker can weigh."""
    name = "net_additional_employment.public_attestation"
    if employer.sector is not Sector.PUBLIC or not rule.public_employer_attestation_required:
        return _result(name, Outcome.PASSED, f"no attestation is required of a {employer.sector} employer", rule)
    if not employer.net_addition_attested:
        return _result(name, Outcome.FAILED, "the public employer has not signed the net-addition attestation", rule)
    return _result(
        name,
        Outcome.NEEDS_JUDGEMENT,
        "a caseworker must judge the public employer's signed attestation (cuts with unchanged tasks fail it)",
        rule,
    )


def check_max_duration(application: ApplicationFacts, citizen: CitizenFacts, rulebook: Rulebook) -> RuleResult:
    """Whether the placement ends within the maximum for its scheme, the citizen's group and the sector."""
    on = application.starts_on
    if application.scheme is Scheme.INTERNSHIP:
        rule: InternshipRule | WageSubsidyDurationRule = rulebook.in_force(InternshipRule, on)
    elif application.scheme is Scheme.WAGE_SUBSIDY:
        rule = rulebook.in_force(WageSubsidyDurationRule, on)
    else:
        raise ValueError(f"the rule data holds no maximum duration for {application.scheme}")
    try:
        group = rulebook.group_key(rule, citizen.target_group)
        limit, latest_end = _latest_end(application, citizen, group, rule)
    except NotInRuleData as exc:
        return _result("max_duration", Outcome.NEEDS_JUDGEMENT, f"a caseworker must decide: {exc}", rule)
    if latest_end is None:
        return _result("max_duration", Outcome.PASSED, f"no maximum for target group {group}", rule)
    verdict = Outcome.PASSED if application.ends_on <= latest_end else Outcome.FAILED
    return _result(
        "max_duration",
        verdict,
        f"ends {application.ends_on}; the maximum for target group {group} is {limit}, ending at the latest "
        f"{latest_end}",
        rule,
    )


def check_longest_duration(application: ApplicationFacts, rulebook: Rulebook) -> RuleResult | None:
    """A position's length against the longest maximum of any target group, so no citizen could fill it if longer.

    None where some target group has no maximum: then only the named citizen's own maximum can be checked.
    """
    found = _longest_maximum(application, rulebook)
    if found is None:
        return None
    limit, latest_end, rule = found
    verdict = Outcome.PASSED if application.ends_on <= latest_end else Outcome.FAILED
    return _result(
        "max_duration.any_target_group",
        verdict,
        f"ends {application.ends_on}; no target group may stay longer than {limit}, ending at the latest "
        f"{latest_end}; the citizen's own maximum is checked once they are named",
        rule,
    )


def check_internship_hours(application: ApplicationFacts, rule: InternshipRule) -> RuleResult:
    """Whether the weekly-hours schedule covers the internship and no step exceeds the weekly limit."""
    problems = _schedule_problems(application, rule.max_hours_per_week)
    if problems:
        return _result("internship_hours", Outcome.FAILED, "; ".join(problems), rule)
    return _result(
        "internship_hours",
        Outcome.PASSED,
        f"{len(application.weekly_hours)} step(s), none above {rule.max_hours_per_week} hours a week",
        rule,
    )


def check_state_aid_cap(sector: Sector, hourly_wage_costs: Decimal, starts_on: date, rulebook: Rulebook) -> RuleResult:
    """State-aid cap: the subsidy per paid hour may not exceed the capped share of the wage costs per paid hour.

    Wage costs and subsidy both follow the paid hours, so a year's subsidy stays within the cap exactly when
    every hour's does; the rate is the one in force on the start date.
    """
    rule = rulebook.in_force(StateAidRule, starts_on)
    if sector not in rule.applies_to_sectors:
        return _result("state_aid_cap", Outcome.PASSED, f"the cap does not apply to a {sector} employer", rule)
    try:
        rates = rulebook.in_force(SubsidyRates, starts_on)
        rate = rates.hourly_rate(sector.value)
    except (RuleNotInForce, NotInRuleData) as exc:
        return _result("state_aid_cap", Outcome.NEEDS_JUDGEMENT, f"a caseworker must decide: {exc}", rule)
    share = rule.max_subsidy_share_of_wage_costs
    cap = share * hourly_wage_costs
    verdict = Outcome.PASSED if rate <= cap else Outcome.FAILED
    return RuleResult(
        "state_aid_cap",
        verdict,
        f"the subsidy of {rate} DKK per paid hour ({rates.rule_set_version}) against {share:.0%} of wage costs "
        f"of {hourly_wage_costs} DKK per paid hour, {cap:.3f} DKK",
        rule.rule_set_version,
        also_read=(rates.rule_set_version,),
    )


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
        net_addition = rulebook.in_force(NetAdditionalEmploymentRule, on)
        results += [
            check_headcount(application.employer, net_addition),
            check_vacated_post(application.employer, on, net_addition),
            check_public_attestation(application.employer, net_addition),
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


def _latest_end(
    application: ApplicationFacts,
    citizen: CitizenFacts,
    group: str,
    rule: InternshipRule | WageSubsidyDurationRule,
) -> tuple[str, date | None]:
    """The maximum as words, and the last day the placement may run (None: no maximum)."""
    starts_on = application.starts_on
    if isinstance(rule, WageSubsidyDurationRule):
        months = rule.max_months_for(application.employer.sector, group)
        return f"{months} months", months_later(starts_on, months) - timedelta(days=1)
    weeks = rule.max_weeks_for(
        group,
        newly_graduated=citizen.newly_graduated,
        birth_date=citizen.birth_date,
        unemployed_since=citizen.unemployed_since,
        on=starts_on,
    )
    if weeks is None:
        return "none", None
    return f"{weeks} weeks", starts_on + timedelta(weeks=weeks) - timedelta(days=1)


def _longest_maximum(
    application: ApplicationFacts, rulebook: Rulebook
) -> tuple[str, date, InternshipRule | WageSubsidyDurationRule] | None:
    """The longest maximum of any target group as words, its last day and its rule; None if a group has none."""
    starts_on = application.starts_on
    if application.scheme is Scheme.INTERNSHIP:
        internship = rulebook.in_force(InternshipRule, starts_on)
        groups = rulebook.in_force(TargetGroups, internship.valid_from).groups
        if internship.unlimited_target_groups or not set(groups) <= set(internship.max_weeks):
            return None
        weeks = max(*internship.max_weeks.values(), internship.extension.max_weeks)
        return f"{weeks} weeks", starts_on + timedelta(weeks=weeks) - timedelta(days=1), internship
    if application.scheme is Scheme.WAGE_SUBSIDY:
        duration = rulebook.in_force(WageSubsidyDurationRule, starts_on)
        groups = rulebook.in_force(TargetGroups, duration.valid_from).groups
        try:
            longest = max(duration.max_months_for(application.employer.sector, group) for group in groups)
        except NotInRuleData:
            return None
        return f"{longest} months", months_later(starts_on, longest) - timedelta(days=1), duration
    return None


def _schedule_problems(application: ApplicationFacts, max_hours: Decimal) -> list[str]:
    steps = application.weekly_hours
    if not steps:
        return ["no weekly hours are given"]
    problems = []
    if steps[0].starts_on != application.starts_on:
        problems.append(
            f"the hours schedule begins {steps[0].starts_on}, not on the start date {application.starts_on}"
        )
    if any(later.starts_on <= earlier.starts_on for earlier, later in pairwise(steps)):
        problems.append("the hours steps must start on increasing dates")
    for step in steps:
        if step.starts_on > application.ends_on:
            problems.append(f"the step from {step.starts_on} begins after the internship ends {application.ends_on}")
        if not 0 < step.hours_per_week <= max_hours:
            problems.append(
                f"{step.hours_per_week} hours a week from {step.starts_on} is outside 0 to {max_hours} hours"
            )
    return problems


def _placed_on(unit: ProductionUnit, day: date) -> int:
    return sum(
        1
        for placement in unit.placements
        if placement.starts_on <= day and (placement.ends_on is None or day <= placement.ends_on)
    )


def _peak(placements: tuple[ExistingPlacement, ...], first: date, last: date) -> tuple[int, date]:
    """The most placements running together on one day from `first` to `last`, and the first day they do."""
    changes: Counter[date] = Counter()
    for placement in placements:
        starts, ends = max(placement.starts_on, first), min(placement.ends_on or last, last)
        if starts <= ends:
            changes[starts] += 1
            changes[ends + timedelta(days=1)] -= 1
    peak, peak_day, running = 0, first, 0
    for day in sorted(changes):
        running += changes[day]
        if running > peak:
            peak, peak_day = running, day
    return peak, peak_day


def _result(rule_name: str, outcome: Outcome, reason: str, rule: RuleVersion) -> RuleResult:
    return RuleResult(rule_name, outcome, reason, rule.rule_set_version)
