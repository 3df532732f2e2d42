"""Wage subsidy: the months of unemployment required before the start, and who is exempt from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pydantic import PositiveInt

from rules.common import Frozen, Outcome, RuleResult, RuleVersion, observed, result
from rules.dates import age_on, months_later

if TYPE_CHECKING:
    from rules import Rulebook

RULE = "prior_unemployment"


class PriorUnemploymentRule(RuleVersion):
    """Months of unemployment required before a wage-subsidy job, the groups it applies to, and the exemptions."""

    min_months: PositiveInt
    applies_to_target_groups: tuple[str, ...]
    exempt_from_age: PositiveInt
    exempt_single_parents: bool
    exempt_without_upper_secondary_or_vocational_education: bool

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(self.applies_to_target_groups)


@dataclass(frozen=True)
class Jobseeker:
    """The citizen as this rule reads them; `target_group` as named by the rule's tables."""

    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    single_parent: bool = False
    has_upper_secondary_or_vocational_education: bool = True


def check(rule: PriorUnemploymentRule, jobseeker: Jobseeker, starts_on: date) -> RuleResult:
    """Whether the citizen has been unemployed long enough for a wage-subsidy job starting on `starts_on`."""
    group = jobseeker.target_group
    facts = {
        "target_group": group,
        "unemployed_since": jobseeker.unemployed_since,
        "starts_on": starts_on,
        "single_parent": jobseeker.single_parent,
        "has_upper_secondary_or_vocational_education": jobseeker.has_upper_secondary_or_vocational_education,
    }
    if group not in rule.applies_to_target_groups:
        return result(
            RULE,
            Outcome.PASSED,
            f"not required for target group {group}",
            f"kræves ikke for målgruppen {group}",
            rule,
            facts,
        )
    exemption = _exemption(jobseeker, starts_on, rule)
    if exemption:
        english, danish = exemption
        return result(
            RULE, Outcome.PASSED, f"required from day 1: {english}", f"ret fra første dag: {danish}", rule, facts
        )
    if jobseeker.unemployed_since is None:
        return result(
            RULE,
            Outcome.FAILED,
            "the citizen is not registered as unemployed",
            "borgeren er ikke registreret som ledig",
            rule,
            facts,
        )
    reached_on = months_later(jobseeker.unemployed_since, rule.min_months)
    return result(
        RULE,
        Outcome.PASSED if reached_on <= starts_on else Outcome.FAILED,
        f"unemployed since {jobseeker.unemployed_since}: {rule.min_months} months are reached on {reached_on}, "
        f"the job starts {starts_on}",
        f"ledig siden {jobseeker.unemployed_since}: {rule.min_months} måneder er nået {reached_on}, "
        f"jobbet starter {starts_on}",
        rule,
        facts,
    )


def _exemption(jobseeker: Jobseeker, starts_on: date, rule: PriorUnemploymentRule) -> tuple[str, str] | None:
    if age_on(jobseeker.birth_date, starts_on) >= rule.exempt_from_age:
        return f"aged {rule.exempt_from_age} or more", f"fyldt {rule.exempt_from_age} år"
    if rule.exempt_single_parents and jobseeker.single_parent:
        return "single parent", "enlig forsørger"
    if rule.exempt_without_upper_secondary_or_vocational_education and not (
        jobseeker.has_upper_secondary_or_vocational_education
    ):
        return "no upper-secondary or vocational education", "ingen ungdomsuddannelse eller erhvervsuddannelse"
    return None


class Example(Frozen):
    """The prior-unemployment check's inputs as an example (examples.toml) writes them."""

    starts_on: date
    target_group: str
    birth_date: date
    unemployed_since: date | None = None
    single_parent: bool = False
    has_upper_secondary_or_vocational_education: bool = True

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The rule's answer with the version in force on the start date."""
        rule = rulebook.in_force(PriorUnemploymentRule, self.starts_on)
        jobseeker = Jobseeker(
            rulebook.group_key(rule, self.target_group),
            self.birth_date,
            self.unemployed_since,
            self.single_parent,
            self.has_upper_secondary_or_vocational_education,
        )
        return observed(check(rule, jobseeker, self.starts_on))
