"""The state-aid cap: a year's wage subsidy may not exceed a share of the year's wage costs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from jobbro.rulebook import RuleNotInForce
from rules.common import Frozen, NotInRuleData, Outcome, RuleResult, RuleVersion, Sector, Share, observed, result
from rules.subsidy_rates.rule import SubsidyRates

if TYPE_CHECKING:
    from rules import Rulebook

RULE = "state_aid_cap"


class StateAidRule(RuleVersion):
    """Cap on a year's wage subsidy as a share of the year's wage costs, and the sectors it applies to."""

    max_subsidy_share_of_wage_costs: Share
    applies_to_sectors: tuple[Sector, ...]


def check_cap(
    rule: StateAidRule, rates: SubsidyRates | NotInRuleData, sector: Sector, hourly_wage_costs: Decimal
) -> RuleResult:
    """The subsidy per paid hour may not exceed the capped share of the wage costs per paid hour.

    Wage costs and subsidy both follow the paid hours, so a year's subsidy stays within the cap exactly when
    every hour's does. `rates` is why none are known where no rates are in force on the start date.
    """
    facts: dict[str, object] = {"sector": sector, "hourly_wage_costs_dkk": hourly_wage_costs}
    if sector not in rule.applies_to_sectors:
        return result(
            RULE,
            Outcome.PASSED,
            f"the cap does not apply to a {sector} employer",
            f"loftet gælder ikke en {'privat' if sector is Sector.PRIVATE else 'offentlig'} arbejdsgiver",
            rule,
            facts,
        )
    try:
        if isinstance(rates, NotInRuleData):
            raise rates
        rate = rates.hourly_rate(sector.value)
    except NotInRuleData as exc:
        return result(
            RULE,
            Outcome.NEEDS_JUDGEMENT,
            f"a caseworker must decide: {exc}",
            "en sagsbehandler skal afgøre det: der er ingen tilskudssats for starten",
            rule,
            facts,
        )
    share = rule.max_subsidy_share_of_wage_costs
    cap = share * hourly_wage_costs
    facts |= {"hourly_rate_dkk": rate, "rates_version": rates.rule_set_version}
    checked = result(
        RULE,
        Outcome.PASSED if rate <= cap else Outcome.FAILED,
        f"the subsidy of {rate} DKK per paid hour ({rates.rule_set_version}) against {share:.0%} of wage costs "
        f"of {hourly_wage_costs} DKK per paid hour, {cap:.3f} DKK",
        f"tilskuddet på {rate} kr. pr. betalt time ({rates.rule_set_version}) mod {share:.0%} af lønomkostninger "
        f"på {hourly_wage_costs} kr. pr. betalt time, {cap:.3f} kr.",
        rule,
        facts,
    )
    return replace(checked, also_read=(rates.rule_set_version,))


class Example(Frozen):
    """The cap's inputs as an example (examples.toml) writes them."""

    starts_on: date
    sector: Sector
    hourly_wage_costs_dkk: Decimal

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The cap with the versions (and rates) in force on the start date."""
        try:
            rates: SubsidyRates | NotInRuleData = rulebook.in_force(SubsidyRates, self.starts_on)
        except RuleNotInForce as exc:
            rates = NotInRuleData(str(exc))
        rule = rulebook.in_force(StateAidRule, self.starts_on)
        return observed(check_cap(rule, rates, self.sector, self.hourly_wage_costs_dkk))
