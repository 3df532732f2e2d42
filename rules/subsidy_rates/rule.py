"""Wage-subsidy hourly rates: the DKK paid per subsidised hour, by rate category, for a calendar year."""

from __future__ import annotations

from decimal import Decimal

from rules.common import DKK, NotInRuleData, RuleVersion


class SubsidyRates(RuleVersion):
    """Wage-subsidy hourly rates in DKK, by rate category (a sector, or a sector's special rate)."""

    hourly_rates: dict[str, DKK]

    def hourly_rate(self, category: str) -> Decimal:
        """DKK per paid hour for this rate category."""
        if category not in self.hourly_rates:
            raise NotInRuleData(f"{self.rule_set_version} has no {category!r} rate")
        return self.hourly_rates[category]
