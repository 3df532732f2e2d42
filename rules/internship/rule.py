"""Company internship (virksomhedspraktik): the weekly-hours limit, and the longest internship per target group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import Field, PositiveInt, model_validator

from rules.common import Frozen, NotInRuleData, Outcome, RuleResult, RuleVersion, observed, result
from rules.dates import age_on, months_later

if TYPE_CHECKING:
    from rules import Rulebook

RULE = "internship_hours"


class InternshipExtension(Frozen):
    """Longer internships for new graduates and for older long-term unemployed persons."""

    max_weeks: PositiveInt
    new_graduate_target_groups: tuple[str, ...]
    from_age: PositiveInt
    min_months_unemployed: PositiveInt


class InternshipRule(RuleVersion):
    """Company internship: weekly hours limit and maximum length per target group."""

    max_hours_per_week: Annotated[Decimal, Field(gt=0)]
    max_weeks: dict[str, PositiveInt]
    unlimited_target_groups: tuple[str, ...] = ()
    extension: InternshipExtension

    @model_validator(mode="after")
    def _each_group_limited_or_unlimited(self) -> Self:
        both = set(self.max_weeks) & set(self.unlimited_target_groups)
        if both:
            raise ValueError(f"groups both limited and unlimited: {sorted(both)}")
        return self

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(self.max_weeks).union(self.unlimited_target_groups, self.extension.new_graduate_target_groups)

    def max_weeks_for(
        self, target_group: str, *, newly_graduated: bool, birth_date: date, unemployed_since: date | None, on: date
    ) -> int | None:
        """Maximum weeks for an internship starting `on`; None when the group has no maximum."""
        if target_group in self.unlimited_target_groups:
            return None
        if target_group not in self.max_weeks:
            raise NotInRuleData(f"{self.rule_set_version} has no internship maximum for target group {target_group!r}")
        weeks = self.max_weeks[target_group]
        extended = self.extension
        new_graduate = newly_graduated and target_group in extended.new_graduate_target_groups
        older_long_term = (
            age_on(birth_date, on) >= extended.from_age
            and unemployed_since is not None
            and months_later(unemployed_since, extended.min_months_unemployed) <= on
        )
        return max(weeks, extended.max_weeks) if new_graduate or older_long_term else weeks


@dataclass(frozen=True)
class HoursStep:
    """Weekly hours from a date until the next step, so hours can step up during an internship."""

    starts_on: date
    hours_per_week: Decimal


def check_hours(rule: InternshipRule, starts_on: date, ends_on: date, steps: tuple[HoursStep, ...]) -> RuleResult:
    """Whether the weekly-hours schedule covers the internship and no step exceeds the weekly limit."""
    facts = {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "weekly_hours": tuple(f"{step.hours_per_week} from {step.starts_on}" for step in steps),
        "max_hours_per_week": rule.max_hours_per_week,
    }
    problems = _schedule_problems(starts_on, ends_on, steps, rule.max_hours_per_week)
    if problems:
        return result(
            RULE,
            Outcome.FAILED,
            "; ".join(english for english, _ in problems),
            "; ".join(danish for _, danish in problems),
            rule,
            facts,
        )
    return result(
        RULE,
        Outcome.PASSED,
        f"{len(steps)} step(s), none above {rule.max_hours_per_week} hours a week",
        f"{len(steps)} trin, intet over {rule.max_hours_per_week} timer om ugen",
        rule,
        facts,
    )


def _schedule_problems(
    starts_on: date, ends_on: date, steps: tuple[HoursStep, ...], max_hours: Decimal
) -> list[tuple[str, str]]:
    if not steps:
        return [("no weekly hours are given", "der er ikke angivet ugentlige timer")]
    problems = []
    if steps[0].starts_on != starts_on:
        problems.append(
            (
                f"the hours schedule begins {steps[0].starts_on}, not on the start date {starts_on}",
                f"timeplanen begynder {steps[0].starts_on}, ikke på startdatoen {starts_on}",
            )
        )
    if any(later.starts_on <= earlier.starts_on for earlier, later in pairwise(steps)):
        problems.append(
            ("the hours steps must start on increasing dates", "timetrinene skal starte på stigende datoer")
        )
    for step in steps:
        if step.starts_on > ends_on:
            problems.append(
                (
                    f"the step from {step.starts_on} begins after the internship ends {ends_on}",
                    f"trinnet fra {step.starts_on} begynder efter praktikkens slutning {ends_on}",
                )
            )
        if not 0 < step.hours_per_week <= max_hours:
            problems.append(
                (
                    f"{step.hours_per_week} hours a week from {step.starts_on} is outside 0 to {max_hours} hours",
                    f"{step.hours_per_week} timer om ugen fra {step.starts_on} er uden for 0 til {max_hours} timer",
                )
            )
    return problems


class Step(Frozen):
    """A step of weekly hours, in an example."""

    starts_on: date
    hours_per_week: Decimal


class Example(Frozen):
    """The weekly-hours check's inputs as an example (examples.toml) writes them."""

    starts_on: date
    ends_on: date
    weekly_hours: tuple[Step, ...]

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The rule's answer with the version in force on the start date."""
        steps = tuple(HoursStep(step.starts_on, step.hours_per_week) for step in self.weekly_hours)
        return observed(
            check_hours(rulebook.in_force(InternshipRule, self.starts_on), self.starts_on, self.ends_on, steps)
        )
