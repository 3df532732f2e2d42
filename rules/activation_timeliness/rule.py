"""Activation timeliness (ret og pligt): when a citizen's first offer is due, counted from the unemployment start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import floor
from typing import TYPE_CHECKING

from pydantic import NonNegativeInt, PositiveInt

from rules.common import Frozen, RuleVersion, Share
from rules.dates import age_on, months_later

if TYPE_CHECKING:
    from rules import Rulebook


class OfferDeadline(Frozen):
    """When a matching citizen's first offer is due, counted from the unemployment start."""

    name: str
    target_groups: tuple[str, ...]
    under_age: PositiveInt | None = None
    only_without_qualifying_education: bool = False
    due_after_months: NonNegativeInt
    continuous: bool = False


class OfferExemption(Frozen):
    """Share of citizens a municipality may exempt from offers during their first months."""

    max_share: Share
    window_months: PositiveInt
    target_groups: tuple[str, ...]


class TimelinessRule(RuleVersion):
    """Offer deadlines (the first that matches wins) and any exemption."""

    deadlines: tuple[OfferDeadline, ...]
    exemption: OfferExemption | None = None

    @property
    def target_group_names(self) -> frozenset[str]:
        exempted = self.exemption.target_groups if self.exemption else ()
        return frozenset(group for deadline in self.deadlines for group in deadline.target_groups).union(exempted)


@dataclass(frozen=True)
class Jobseeker:
    """What the deadlines read; `target_group` as named by the rule's tables."""

    target_group: str
    birth_date: date
    unemployed_since: date
    has_qualifying_education: bool = False
    exempted: bool = False


@dataclass(frozen=True)
class OfferDue:
    """When a citizen's first offer is due, and whether further offers must follow without a break."""

    due_on: date
    continuous: bool
    deadline: str
    rule_set_version: str


def offer_due(rule: TimelinessRule, jobseeker: Jobseeker) -> OfferDue | None:
    """When the first offer is due under `rule` (the version in force on the unemployment start); None if none fits."""
    since, group = jobseeker.unemployed_since, jobseeker.target_group
    deadline = next((found for found in rule.deadlines if _covers(found, jobseeker)), None)
    if deadline is None:
        return None
    due_on = months_later(since, deadline.due_after_months)
    exemption = rule.exemption
    if jobseeker.exempted and exemption is not None and group in exemption.target_groups:
        due_on = max(due_on, months_later(since, exemption.window_months))
    return OfferDue(due_on, deadline.continuous, deadline.name, rule.rule_set_version)


def exemption_quota(rule: TimelinessRule, caseload: int) -> int:
    """How many of `caseload` citizens a municipality may exempt from offers (rounded down)."""
    return 0 if rule.exemption is None else floor(rule.exemption.max_share * caseload)


def _covers(deadline: OfferDeadline, jobseeker: Jobseeker) -> bool:
    young_enough = deadline.under_age is None or (
        age_on(jobseeker.birth_date, jobseeker.unemployed_since) < deadline.under_age
    )
    education_fits = not (deadline.only_without_qualifying_education and jobseeker.has_qualifying_education)
    return jobseeker.target_group in deadline.target_groups and young_enough and education_fits


class Example(Frozen):
    """A citizen's first offer deadline, as an example (examples.toml) writes the citizen."""

    target_group: str
    birth_date: date
    unemployed_since: date
    has_qualifying_education: bool = False
    exempted: bool = False

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The deadline under the version in force on the unemployment start, or that none applies."""
        rule = rulebook.in_force(TimelinessRule, self.unemployed_since)
        jobseeker = Jobseeker(
            rulebook.group_key(rule, self.target_group),
            self.birth_date,
            self.unemployed_since,
            self.has_qualifying_education,
            self.exempted,
        )
        due = offer_due(rule, jobseeker)
        if due is None:
            return {"due_on": "none"}
        return {
            "due_on": due.due_on.isoformat(),
            "deadline": due.deadline,
            "continuous": "true" if due.continuous else "false",
            "rule_set_version": due.rule_set_version,
        }
