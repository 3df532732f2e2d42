"""Wage subsidy (løntilskud): the longest subsidised job, in months, per employer sector and target group."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import PositiveInt

from rules.common import Frozen, NotInRuleData, RuleVersion, Sector

if TYPE_CHECKING:
    from rules import Rulebook


class SectorMonths(Frozen):
    """A sector's wage-subsidy maximum: per target group, else the default."""

    default: PositiveInt | None = None
    by_target_group: dict[str, PositiveInt] = {}


class WageSubsidyDurationRule(RuleVersion):
    """Wage subsidy: maximum length in months per employer sector and target group."""

    max_months: dict[Sector, SectorMonths]

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(group for months in self.max_months.values() for group in months.by_target_group)

    def max_months_for(self, sector: Sector, target_group: str) -> int:
        """Maximum months of wage subsidy for this sector and group."""
        months = self.max_months.get(sector, SectorMonths())
        found = months.by_target_group.get(target_group, months.default)
        if found is None:
            raise NotInRuleData(
                f"{self.rule_set_version} has no wage-subsidy maximum for a {sector} employer and target group "
                f"{target_group!r}"
            )
        return found


class Example(Frozen):
    """A maximum looked up for a start day, a sector and a registered target group (examples.toml)."""

    starts_on: date
    sector: Sector
    target_group: str

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The maximum in months, or why there is none."""
        rule = rulebook.in_force(WageSubsidyDurationRule, self.starts_on)
        try:
            return {"max_months": str(rule.max_months_for(self.sector, rulebook.group_key(rule, self.target_group)))}
        except NotInRuleData as exc:
            return {"error": type(exc).__name__}
