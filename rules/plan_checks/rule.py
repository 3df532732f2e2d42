"""Activation's checks of an application against the citizen's plan: no internship at the latest wage-subsidy
employer (overlaps in the plan are checked by activation as dates, with no numbers of their own).

We do not see ordinary jobs, so only a wage-subsidy employer can be the latest employer here; a later ordinary
employer cannot lift the conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pydantic import Field

from rules.common import Frozen, RuleVersion

if TYPE_CHECKING:
    from rules import Rulebook


class RecentEmployer(Frozen):
    """Applications of `schemes` may not be at the employer of the citizen's latest placement of `earlier_schemes`."""

    schemes: frozenset[str] = Field(min_length=1)
    earlier_schemes: frozenset[str] = Field(min_length=1)


class PlanCheckRule(RuleVersion):
    """The plan checks' data: which schemes the latest-employer check applies to."""

    recent_employer: RecentEmployer


@dataclass(frozen=True)
class Placement:
    """One of the citizen's placements: its scheme, first day and employer."""

    scheme: str
    starts_on: date
    employer_cvr: str


def same_recent_employer(
    rule: PlanCheckRule, scheme: str, starts_on: date, employer_cvr: str, earlier: Iterable[Placement]
) -> Placement | None:
    """The citizen's latest placement of the checked schemes begun before `starts_on`, if it was at the same
    employer and the application's scheme is one the check applies to; else None."""
    checked = rule.recent_employer
    if scheme not in checked.schemes:
        return None
    before = [p for p in earlier if p.scheme in checked.earlier_schemes and p.starts_on < starts_on]
    latest = max(before, key=lambda p: p.starts_on, default=None)
    return latest if latest is not None and latest.employer_cvr == employer_cvr else None


class Example(Frozen):
    """An application (scheme, first day, employer) and the citizen's earlier placements."""

    scheme: str
    starts_on: date
    employer_cvr: str
    earlier: tuple[tuple[str, date, str], ...] = ()

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """Whether the application is at the latest employer, and the version that says so."""
        rule = rulebook.in_force(PlanCheckRule, self.starts_on)
        placements = [Placement(scheme, starts_on, cvr) for scheme, starts_on, cvr in self.earlier]
        found = same_recent_employer(rule, self.scheme, self.starts_on, self.employer_cvr, placements)
        return {"conflict": "yes" if found else "no", "rule_set_version": rule.rule_set_version}
