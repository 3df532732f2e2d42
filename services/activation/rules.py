"""Activation rules: whether offer periods overlap, and when a citizen's offer is due (ret og pligt).

The deadlines themselves are rules/activation_timeliness; this picks the version and the target group's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules import Rulebook, TimelinessRule
from rules.activation_timeliness import rule as timeliness
from rules.activation_timeliness.rule import OfferDue


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


def overlaps(first: Period, second: Period) -> bool:
    """Whether two periods share a day: both ends count, so [1–10] and [10–20] overlap, [1–10] and [11–20] do not."""
    return _begins_by_end_of(first.start, second) and _begins_by_end_of(second.start, first)


def offer_due(jobseeker: JobseekerFacts, rulebook: Rulebook) -> OfferDue | None:
    """When the first offer is due; None when no deadline in the rule data covers the citizen.

    The rule version is the one in force on the unemployment start date, even when the deadline falls after a
    later version takes effect: a citizen's deadline is fixed when the unemployment begins.
    """
    rule = rulebook.in_force(TimelinessRule, jobseeker.unemployed_since)
    return timeliness.offer_due(
        rule,
        timeliness.Jobseeker(
            target_group=rulebook.group_key(rule, jobseeker.target_group),
            birth_date=jobseeker.birth_date,
            unemployed_since=jobseeker.unemployed_since,
            has_qualifying_education=jobseeker.has_qualifying_education,
            exempted=jobseeker.exempted,
        ),
    )


def exemption_quota(caseload: int, on: date, rulebook: Rulebook) -> int:
    """How many of `caseload` citizens a municipality may exempt from offers on `on` (rounded down)."""
    return timeliness.exemption_quota(rulebook.in_force(TimelinessRule, on), caseload)


def _begins_by_end_of(day: date, period: Period) -> bool:
    return period.end is None or day <= period.end
