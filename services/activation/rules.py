"""Activation rules: whether offer periods overlap, and when a citizen's offer is due (ret og pligt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import floor

from jobbro.rulebook import OfferDeadline, Rulebook, TimelinessRule, age_on, months_later


@dataclass(frozen=True)
class Period:
    """Inclusive dates; an open end means the offer has not ended."""

    start: date
    end: date | None = None


@dataclass(frozen=True)
class JobseekerFacts:
    """What the timeliness rules need to know about an unemployed citizen."""

    target_group: str
    birth_date: date
    unemployed_since: date
    has_qualifying_education: bool = False
    """Holds a vocational qualifying education (erhvervskompetencegivende uddannelse)."""
    exempted: bool = False
    """Exempted by the municipality from offers during the first months, where the rules allow it."""


@dataclass(frozen=True)
class OfferDue:
    """When a citizen's first offer is due, and whether further offers must follow without a break."""

    due_on: date
    continuous: bool
    deadline: str
    rule_set_version: str


def overlaps(first: Period, second: Period) -> bool:
    """Whether two periods share a day: both ends count, so [1–10] and [10–20] overlap, [1–10] and [11–20] do not."""
    return _begins_by_end_of(first.start, second) and _begins_by_end_of(second.start, first)


def offer_due(jobseeker: JobseekerFacts, rulebook: Rulebook) -> OfferDue | None:
    """When the first offer is due; None when no deadline in the rule data covers the citizen.

    The rule version is the one in force on the unemployment start date, even when the deadline falls after a
    later version takes effect: a citizen's deadline is fixed when the unemployment begins.
    """
    since = jobseeker.unemployed_since
    rule = rulebook.in_force(TimelinessRule, since)
    group = rulebook.group_key(rule, jobseeker.target_group)
    deadline = next((found for found in rule.deadlines if _covers(found, group, jobseeker)), None)
    if deadline is None:
        return None
    due_on = months_later(since, deadline.due_after_months)
    exemption = rule.exemption
    if jobseeker.exempted and exemption is not None and group in exemption.target_groups:
        due_on = max(due_on, months_later(since, exemption.window_months))
    return OfferDue(due_on, deadline.continuous, deadline.name, rule.rule_set_version)


def exemption_quota(caseload: int, on: date, rulebook: Rulebook) -> int:
    """How many of `caseload` citizens a municipality may exempt from offers on `on` (rounded down)."""
    exemption = rulebook.in_force(TimelinessRule, on).exemption
    return 0 if exemption is None else floor(exemption.max_share * caseload)


def _covers(deadline: OfferDeadline, group: str, jobseeker: JobseekerFacts) -> bool:
    young_enough = deadline.under_age is None or (
        age_on(jobseeker.birth_date, jobseeker.unemployed_since) < deadline.under_age
    )
    education_fits = not (deadline.only_without_qualifying_education and jobseeker.has_qualifying_education)
    return group in deadline.target_groups and young_enough and education_fits


def _begins_by_end_of(day: date, period: Period) -> bool:
    return period.end is None or day <= period.end
