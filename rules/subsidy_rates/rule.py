"""Wage-subsidy hourly rates: the DKK paid per subsidised hour, by rate category, for a calendar year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from jobbro.rulebook import RuleNotInForce
from rules.common import DKK, Frozen, NotInRuleData, RuleVersion

if TYPE_CHECKING:
    from rules import Rulebook


class SubsidyRates(RuleVersion):
    """Wage-subsidy hourly rates in DKK, by rate category (a sector, or a sector's special rate)."""

    hourly_rates: dict[str, DKK]

    def hourly_rate(self, category: str) -> Decimal:
        """DKK per paid hour for this rate category."""
        if category not in self.hourly_rates:
            raise NotInRuleData(f"{self.rule_set_version} has no {category!r} rate")
        return self.hourly_rates[category]


class Example(Frozen):
    """A rate looked up for a day and a rate category, as an example (examples.toml) writes it."""

    on: date
    category: str

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The rate and its version, or why there is none."""
        try:
            rates = rulebook.in_force(SubsidyRates, self.on)
            return {
                "hourly_rate_dkk": str(rates.hourly_rate(self.category)),
                "rule_set_version": rates.rule_set_version,
            }
        except (RuleNotInForce, NotInRuleData) as exc:
            return {"error": type(exc).__name__}
