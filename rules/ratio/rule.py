"""The ratio rule (rimelighedskrav): how many supported persons a production unit may host; does one more fit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from math import floor
from typing import TYPE_CHECKING

from pydantic import PositiveInt

from rules.common import Frozen, Outcome, RuleResult, RuleVersion, observed, result

if TYPE_CHECKING:
    from rules import Rulebook

RULE = "ratio"


class RatioRule(RuleVersion):
    """The formula's thresholds, in full-time equivalents (FTE) of ordinary staff N:

    ```
    allowed = max(minimum_placements, floor(min(N, tier_limit_fte) / fte_per_placement_up_to_limit)
                                    + floor(max(N - tier_limit_fte, 0) / fte_per_placement_above_limit))
    ```
    """

    minimum_placements: PositiveInt
    tier_limit_fte: PositiveInt
    fte_per_placement_up_to_limit: PositiveInt
    fte_per_placement_above_limit: PositiveInt


@dataclass(frozen=True)
class ExistingPlacement:
    """A supported person already placed at the production unit; an open end means it has not ended."""

    scheme: str
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class ProductionUnit:
    """The workplace (P-number): its ordinary staff in full-time equivalents and its supported persons."""

    ordinary_fte: Decimal
    placements: tuple[ExistingPlacement, ...] = ()


def allowed_placements(ordinary_fte: Decimal, rule: RatioRule) -> int:
    """How many supported persons a production unit may host (the ratio rule)."""
    limit = Decimal(rule.tier_limit_fte)
    up_to_limit = floor(min(ordinary_fte, limit) / rule.fte_per_placement_up_to_limit)
    above_limit = floor(max(ordinary_fte - limit, Decimal(0)) / rule.fte_per_placement_above_limit)
    return max(rule.minimum_placements, up_to_limit + above_limit)


def check(
    rule: RatioRule,
    unit: ProductionUnit,
    starts_on: date,
    ends_on: date,
    today: date,
    *,
    override_remark: str | None = None,
    under_integration_act: bool = False,
) -> RuleResult:
    """Whether the production unit has room for one more supported person on every day of the period.

    The placements are counted at their peak within the period; a unit full today that has room throughout the
    period (a placement ends before the start date) gives a warning the applicant may override with a remark.
    """
    if under_integration_act:
        return result(
            RULE,
            Outcome.PASSED,
            "persons under the integration act are not checked",
            "personer omfattet af integrationsloven er ikke omfattet af kravet",
            rule,
            {"under_integration_act": True},
        )
    allowed = allowed_placements(unit.ordinary_fte, rule)
    peak, peak_day = _peak(unit.placements, starts_on, ends_on)
    with_this_at_peak, with_this_now = peak + 1, _placed_on(unit, today) + 1
    facts = {
        "ordinary_fte": unit.ordinary_fte,
        "allowed_placements": allowed,
        "placements_at_peak_with_this": with_this_at_peak,
        "placements_today_with_this": with_this_now,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "override_remark_given": override_remark is not None,
    }
    counted = f"for {unit.ordinary_fte} ordinary FTE the production unit may host {allowed} supported persons"
    counted_da = (
        f"med {unit.ordinary_fte} ordinære årsværk må produktionsenheden have {allowed} personer i støttet "
        "beskæftigelse"
    )
    period, period_da = f"from {starts_on} to {ends_on}", f"fra {starts_on} til {ends_on}"
    if with_this_at_peak > allowed:
        return result(
            RULE,
            Outcome.FAILED,
            f"busiest on {peak_day}: {counted}; with this placement it would host {with_this_at_peak}",
            f"flest den {peak_day}: {counted_da}; med denne ville den have {with_this_at_peak}",
            rule,
            facts,
        )
    if with_this_now > allowed:
        override = (
            f"the applicant overrode it: {override_remark!r}"
            if override_remark
            else "the applicant may override it with a remark"
        )
        override_da = (
            "ansøgeren har tilsidesat det med en bemærkning"
            if override_remark
            else "ansøgeren kan tilsidesætte det med en bemærkning"
        )
        return result(
            RULE,
            Outcome.WARNING,
            f"{counted}; with this placement it hosts {with_this_now} today but at most {with_this_at_peak} {period}; "
            f"{override}",
            f"{counted_da}; med denne har den {with_this_now} i dag, men højst {with_this_at_peak} {period_da}; "
            f"{override_da}",
            rule,
            facts,
        )
    return result(
        RULE,
        Outcome.PASSED,
        f"{counted}; with this placement it hosts at most {with_this_at_peak} {period}",
        f"{counted_da}; med denne har den højst {with_this_at_peak} {period_da}",
        rule,
        facts,
    )


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


class Span(Frozen):
    """A placement already at the unit, in an example."""

    starts_on: date
    ends_on: date | None = None


class Example(Frozen):
    """The ratio rule's inputs as an example (examples.toml) writes them."""

    ordinary_fte: Decimal
    placements: tuple[Span, ...] = ()
    starts_on: date
    ends_on: date
    today: date
    override_remark: str | None = None
    under_integration_act: bool = False

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The rule's answer with the version in force on the start date."""
        placed = tuple(ExistingPlacement("internship", span.starts_on, span.ends_on) for span in self.placements)
        return observed(
            check(
                rulebook.in_force(RatioRule, self.starts_on),
                ProductionUnit(self.ordinary_fte, placed),
                self.starts_on,
                self.ends_on,
                self.today,
                override_remark=self.override_remark,
                under_integration_act=self.under_integration_act,
            )
        )
