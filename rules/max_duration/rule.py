"""The longest placement: an internship in weeks, a wage subsidy in months, by target group (and sector).

The numbers are the internship's and the wage-subsidy duration's data; this is the one place they are applied,
for subsidy (the employer's placement) and benefits (the citizen's assessment) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rules.common import Frozen, NotInRuleData, Outcome, RuleResult, Sector, observed, result
from rules.dates import months_later
from rules.internship.rule import InternshipRule
from rules.target_groups.rule import TargetGroups
from rules.wage_subsidy_duration.rule import WageSubsidyDurationRule

if TYPE_CHECKING:
    from rules import Rulebook

RULE = "max_duration"
INTERNSHIP = "internship"
WAGE_SUBSIDY = "wage_subsidy"

DurationRule = InternshipRule | WageSubsidyDurationRule


@dataclass(frozen=True)
class Citizen:
    """What the maximum depends on besides the scheme: the registered target group, age and unemployment."""

    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    newly_graduated: bool = False


def rule_for(rulebook: Rulebook, scheme: str, starts_on: date) -> DurationRule:
    """The data holding the maximum for `scheme`; other schemes have none."""
    if scheme == INTERNSHIP:
        return rulebook.in_force(InternshipRule, starts_on)
    if scheme == WAGE_SUBSIDY:
        return rulebook.in_force(WageSubsidyDurationRule, starts_on)
    raise ValueError(f"the rule data holds no maximum duration for {scheme}")


def latest_end(
    rulebook: Rulebook, scheme: str, starts_on: date, sector: Sector, citizen: Citizen
) -> tuple[str, date | None]:
    """The maximum as words and the last day the placement may run (None: no maximum); NotInRuleData if unknown."""
    rule = rule_for(rulebook, scheme, starts_on)
    group = rulebook.group_key(rule, citizen.target_group)
    if isinstance(rule, WageSubsidyDurationRule):
        months = rule.max_months_for(sector, group)
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


def check(
    rulebook: Rulebook, scheme: str, starts_on: date, ends_on: date, sector: Sector, citizen: Citizen
) -> RuleResult:
    """Whether the placement ends within the maximum for its scheme, the citizen's group and the sector."""
    rule = rule_for(rulebook, scheme, starts_on)
    facts: dict[str, object] = {
        "scheme": scheme,
        "sector": sector,
        "target_group": citizen.target_group,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "newly_graduated": citizen.newly_graduated,
        "unemployed_since": citizen.unemployed_since,
    }
    try:
        group = rulebook.group_key(rule, citizen.target_group)
        limit, last_day = latest_end(rulebook, scheme, starts_on, sector, citizen)
    except NotInRuleData as exc:
        return result(
            RULE,
            Outcome.NEEDS_JUDGEMENT,
            f"a caseworker must decide: {exc}",
            "en sagsbehandler skal afgøre det: reglerne har intet maksimum for målgruppen",
            rule,
            facts,
        )
    facts["latest_end"] = last_day
    if last_day is None:
        return result(
            RULE,
            Outcome.PASSED,
            f"no maximum for target group {group}",
            f"intet maksimum for målgruppen {group}",
            rule,
            facts,
        )
    return result(
        RULE,
        Outcome.PASSED if ends_on <= last_day else Outcome.FAILED,
        f"ends {ends_on}; the maximum for target group {group} is {limit}, ending at the latest {last_day}",
        f"slutter {ends_on}; maksimum for målgruppen {group} er {_da(limit)}, dvs. senest {last_day}",
        rule,
        facts,
    )


def check_any_target_group(
    rulebook: Rulebook, scheme: str, starts_on: date, ends_on: date, sector: Sector
) -> RuleResult | None:
    """A position's length against the longest maximum of any target group, so no citizen could fill it if longer.

    None where some target group has no maximum: then only the named citizen's own maximum can be checked.
    """
    found = _longest_maximum(rulebook, scheme, starts_on, sector)
    if found is None:
        return None
    limit, last_day, rule = found
    return result(
        "max_duration.any_target_group",
        Outcome.PASSED if ends_on <= last_day else Outcome.FAILED,
        f"ends {ends_on}; no target group may stay longer than {limit}, ending at the latest "
        f"{last_day}; the citizen's own maximum is checked once they are named",
        f"slutter {ends_on}; ingen målgruppe må blive længere end {_da(limit)}, dvs. senest {last_day}; "
        "borgerens eget maksimum tjekkes, når borgeren er navngivet",
        rule,
        {"scheme": scheme, "sector": sector, "starts_on": starts_on, "ends_on": ends_on, "latest_end": last_day},
    )


def _longest_maximum(
    rulebook: Rulebook, scheme: str, starts_on: date, sector: Sector
) -> tuple[str, date, DurationRule] | None:
    """The longest maximum of any target group as words, its last day and its rule; None if a group has none."""
    rule = rule_for(rulebook, scheme, starts_on)
    groups = rulebook.in_force(TargetGroups, rule.valid_from).groups
    if isinstance(rule, InternshipRule):
        if rule.unlimited_target_groups or not set(groups) <= set(rule.max_weeks):
            return None
        weeks = max(*rule.max_weeks.values(), rule.extension.max_weeks)
        return f"{weeks} weeks", starts_on + timedelta(weeks=weeks) - timedelta(days=1), rule
    try:
        longest = max(rule.max_months_for(sector, group) for group in groups)
    except NotInRuleData:
        return None
    return f"{longest} months", months_later(starts_on, longest) - timedelta(days=1), rule


def _da(limit: str) -> str:
    return limit.replace("weeks", "uger").replace("months", "måneder")


class Example(Frozen):
    """The maximum-duration check's inputs as an example (examples.toml) writes them."""

    scheme: str
    sector: Sector = Sector.PRIVATE
    starts_on: date
    ends_on: date
    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    newly_graduated: bool = False

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The rule's answer with the versions in force on the start date."""
        citizen = Citizen(self.target_group, self.birth_date, self.unemployed_since, self.newly_graduated)
        return observed(check(rulebook, self.scheme, self.starts_on, self.ends_on, self.sector, citizen))
