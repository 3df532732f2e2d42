"""The benefits service's rules: prior unemployment (from rules/), the employer's subsidy, benefit proration.

Money is integer øre. Rates are exact Decimals from the rule data; an amount is rounded once, at the end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cached_property
from math import floor

from rules import (
    NotInRuleData,
    Outcome,
    PriorUnemploymentRule,
    Rulebook,
    RuleResult,
    Sector,
    StateAidRule,
    SubsidyRates,
)
from rules.prior_unemployment import rule as prior_unemployment


@dataclass(frozen=True)
class CitizenFacts:
    """What the entitlement rules need to know about a citizen."""

    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    single_parent: bool = False
    has_upper_secondary_or_vocational_education: bool = True
    newly_graduated: bool = False


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the unit benefits and subsidies are paid in."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-11` → November 2026; the form idempotency keys and the payment-run command use."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.of(date(year, month, 1))
        except ValueError as exc:
            raise ValueError("not a month (YYYY-MM)") from exc  # the text is not repeated: it may be anything

    @classmethod
    def of(cls, day: date) -> Month:
        """The month `day` falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def next(self) -> Month:
        """The following month."""
        return Month.of(self.last_day + timedelta(days=1))

    @cached_property
    def first_day(self) -> date:
        """The 1st, the day rates and rule versions for the month are looked up on."""
        return date(self.year, self.month, 1)

    @cached_property
    def days(self) -> int:
        """Number of days, 28 to 31."""
        return calendar.monthrange(self.year, self.month)[1]

    @cached_property
    def last_day(self) -> date:
        """The month's last day."""
        return date(self.year, self.month, self.days)

    @cached_property
    def period(self) -> Period:
        """The whole month (a payment run reads it once per citizen)."""
        return Period(self.first_day, self.last_day)


@dataclass(frozen=True)
class Period:
    """Inclusive dates; an open end means the period has not ended."""

    start: date
    end: date | None = None


@dataclass(frozen=True)
class HoursStep:
    """From this day on, this many hours a week (until the next step)."""

    from_date: date
    hours_per_week: Decimal


@dataclass(frozen=True)
class WageSubsidyPlacement:
    """A wage-subsidy job as the subsidy calculation sees it."""

    sector: Sector
    period: Period
    weekly_hours: Decimal
    """Weekly hours from the start until the first of `later_hours`."""
    special_rate: bool = False
    """Paid at the sector's special rate (`<sector>_special` in the rate data)."""
    later_hours: tuple[HoursStep, ...] = ()
    """Changes of the weekly hours during the placement, in date order."""


@dataclass(frozen=True)
class SubsidyReport:
    """An employer's request for one month's subsidy, paid in arrears."""

    month: Month
    paid_hours: Decimal
    wage_costs_ore: int
    refunds_ore: int = 0
    """Refunds the employer received for the month (sickness), which reduce the subsidy."""


@dataclass(frozen=True)
class YearToDate:
    """Subsidy paid and wage costs of the placement's calendar year before the reported month."""

    subsidy_paid_ore: int = 0
    wage_costs_ore: int = 0


@dataclass(frozen=True)
class SubsidyCalculation:
    """One month's subsidy, step by step, so a caseworker and the employer can follow it."""

    rate_category: str
    """The rate data's category: the sector, or `<sector>_special`."""
    hourly_rate: Decimal
    paid_hours: Decimal
    hours_limit: Decimal
    """The placement's weekly hours × its days in the month / 7: paid hours above it are not subsidised."""
    subsidised_hours: Decimal
    gross_ore: int
    refunds_ore: int
    state_aid_reduction_ore: int
    payable_ore: int
    rule_set_versions: tuple[str, ...]


def check_prior_unemployment(citizen: CitizenFacts, starts_on: date, rulebook: Rulebook) -> RuleResult:
    """Whether the citizen has been unemployed long enough for a wage-subsidy job (rules/prior_unemployment)."""
    rule = rulebook.in_force(PriorUnemploymentRule, starts_on)
    try:
        group = rulebook.group_key(rule, citizen.target_group)
    except NotInRuleData as exc:
        return RuleResult(
            prior_unemployment.RULE,
            Outcome.NEEDS_JUDGEMENT,
            f"a caseworker must decide: {exc}",
            rule.rule_set_version,
            "en sagsbehandler skal afgøre det: målgruppen er ukendt for reglen",
            rule.legal_reference,
        )
    jobseeker = prior_unemployment.Jobseeker(
        target_group=group,
        birth_date=citizen.birth_date,
        unemployed_since=citizen.unemployed_since,
        single_parent=citizen.single_parent,
        has_upper_secondary_or_vocational_education=citizen.has_upper_secondary_or_vocational_education,
    )
    return prior_unemployment.check(rule, jobseeker, starts_on)


def monthly_subsidy(
    placement: WageSubsidyPlacement, report: SubsidyReport, year_to_date: YearToDate, rulebook: Rulebook
) -> SubsidyCalculation:
    """The employer's subsidy for a month: rate × subsidised hours, less refunds, within the state-aid cap.

    Subsidised hours are the paid hours, at most the placement's weekly hours × its days in the month / 7
    (summed over the steps of its weekly hours, then rounded down to 0.01 hour). The amount is rounded half up to
    whole øre. Refunds are deducted before the cap, and a month never goes below zero (refunds above the month's
    subsidy are not carried over).
    """
    on = report.month.first_day
    rates = rulebook.in_force(SubsidyRates, on)
    category = f"{placement.sector}_special" if placement.special_rate else str(placement.sector)
    rate = rates.hourly_rate(category)
    limit = _hours_limit(placement, report.month)
    hours = min(report.paid_hours, limit)
    gross = int((rate * hours * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    refunds = min(report.refunds_ore, gross)
    after_refunds = gross - refunds
    state_aid = rulebook.in_force(StateAidRule, on)
    payable = after_refunds
    if placement.sector in state_aid.applies_to_sectors:
        year_wage_costs = year_to_date.wage_costs_ore + report.wage_costs_ore
        cap = floor(state_aid.max_subsidy_share_of_wage_costs * year_wage_costs)
        payable = min(after_refunds, max(cap - year_to_date.subsidy_paid_ore, 0))
    return SubsidyCalculation(
        rate_category=category,
        hourly_rate=rate,
        paid_hours=report.paid_hours,
        hours_limit=limit,
        subsidised_hours=hours,
        gross_ore=gross,
        refunds_ore=refunds,
        state_aid_reduction_ore=after_refunds - payable,
        payable_ore=payable,
        rule_set_versions=(rates.rule_set_version, state_aid.rule_set_version),
    )


def correction_difference(already_paid_ore: int, corrected: SubsidyCalculation) -> int:
    """What a corrected report changes: positive is paid to the employer, negative is clawed back."""
    return corrected.payable_ore - already_paid_ore


def prorate(monthly_rate_ore: int, period: Period, month: Month) -> int:
    """The part of a monthly benefit due for the period's days in `month`, in øre.

    Day d of an n-day month carries floor(rate × d / n) − floor(rate × (d − 1) / n), so each day's share is
    rounded down cumulatively: the parts of any split of a month add up to the monthly rate exactly.
    """
    first, last = _part_in(period, month)
    if last < first:
        return 0
    return _paid_through(monthly_rate_ore, last.day, month) - _paid_through(monthly_rate_ore, first.day - 1, month)


def _part_in(period: Period, month: Month) -> tuple[date, date]:
    """First and last day of the period within the month; last before first when they do not meet."""
    last = month.last_day if period.end is None else min(period.end, month.last_day)
    return max(period.start, month.first_day), last


def _paid_through(monthly_rate_ore: int, day: int, month: Month) -> int:
    return monthly_rate_ore * day // month.days


def _hours_limit(placement: WageSubsidyPlacement, month: Month) -> Decimal:
    first, last = _part_in(placement.period, month)
    steps = [HoursStep(placement.period.start, placement.weekly_hours), *placement.later_hours]
    hour_days = Fraction(0)
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        step_last = last if following is None else min(last, following.from_date - timedelta(days=1))
        days = max((step_last - max(first, step.from_date)).days + 1, 0)
        hour_days += Fraction(step.hours_per_week) * days
    return Decimal(floor(hour_days * 100 / 7)) / 100
