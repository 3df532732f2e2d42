"""The rulebook: one folder per rule with its dated data, its schema and pure function (`rule.py`) and its examples.

`Rulebook.load()` reads every rule's data files and checks them against each other (target-group names).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from jobbro import rulebook as _dated
from jobbro.rulebook import DatedVersion, RuleDataError, RuleNotInForce
from rules.activation_timeliness.rule import OfferDeadline, OfferExemption, TimelinessRule
from rules.common import (
    Fact,
    LegalReference,
    NotInRuleData,
    Outcome,
    RuleResult,
    RuleVersion,
    Sector,
)
from rules.dates import age_on, birth_date_from_cpr, months_later
from rules.internship.rule import InternshipExtension, InternshipRule
from rules.net_additional_employment.rule import NetAdditionalEmploymentRule
from rules.plan_checks.rule import PlanCheckRule
from rules.prior_unemployment.rule import PriorUnemploymentRule
from rules.ratio.rule import RatioRule
from rules.state_aid.rule import StateAidRule
from rules.subsidy_rates.rule import SubsidyRates
from rules.target_groups.rule import TargetGroups
from rules.wage_subsidy_duration.rule import SectorMonths, WageSubsidyDurationRule

REPOSITORY_RULES_DIR = Path(__file__).resolve().parent
EXAMPLES = "examples.toml"
"""Each rule's table of examples, beside its data files."""

KINDS: dict[str, type[DatedVersion]] = {
    "ratio": RatioRule,
    "internship": InternshipRule,
    "wage_subsidy_duration": WageSubsidyDurationRule,
    "prior_unemployment": PriorUnemploymentRule,
    "net_additional_employment": NetAdditionalEmploymentRule,
    "state_aid": StateAidRule,
    "subsidy_rates": SubsidyRates,
    "activation_timeliness": TimelinessRule,
    "plan_checks": PlanCheckRule,
    "target_groups": TargetGroups,
}
"""Each rule folder holding data files, and the schema of its files."""


class Rulebook(_dated.Rulebook):
    """Every version of every rule, checked against each other, asked for by kind and date."""

    def __init__(self, versions: Iterable[DatedVersion]) -> None:
        super().__init__(KINDS, versions)
        self._require_known_target_groups()

    @classmethod
    def load(cls, directory: Path = REPOSITORY_RULES_DIR) -> Rulebook:
        """Read every `<rule>/<version>.toml` under `directory`."""
        return cls(_dated.read_versions(directory, KINDS, frozenset({EXAMPLES})))

    def target_group(self, registered: str, on: date) -> str:
        """The name of a citizen's target group under the groups in force on `on`."""
        return self.in_force(TargetGroups, on).name_of(registered)

    def group_key(self, rule: RuleVersion, registered: str) -> str:
        """The name `rule`'s tables use for a citizen's group: tables use the groups in force when the rule began."""
        return self.target_group(registered, rule.valid_from)

    def _require_known_target_groups(self) -> None:
        for version in self.versions():
            if not isinstance(version, RuleVersion) or not version.target_group_names:
                continue
            try:
                groups = self.in_force(TargetGroups, version.valid_from)
            except RuleNotInForce as exc:
                raise RuleDataError(f"{version.rule_set_version} names target groups, but {exc}") from exc
            unknown = version.target_group_names - set(groups.groups)
            if unknown:
                raise RuleDataError(
                    f"{version.rule_set_version} names target groups not in {groups.rule_set_version}: "
                    f"{sorted(unknown)}"
                )


__all__ = [
    "KINDS",
    "REPOSITORY_RULES_DIR",
    "Fact",
    "InternshipExtension",
    "InternshipRule",
    "LegalReference",
    "NetAdditionalEmploymentRule",
    "NotInRuleData",
    "OfferDeadline",
    "OfferExemption",
    "Outcome",
    "PlanCheckRule",
    "PriorUnemploymentRule",
    "RatioRule",
    "RuleDataError",
    "RuleNotInForce",
    "RuleResult",
    "RuleVersion",
    "Rulebook",
    "SectorMonths",
    "Sector",
    "StateAidRule",
    "SubsidyRates",
    "TargetGroups",
    "TimelinessRule",
    "WageSubsidyDurationRule",
    "age_on",
    "birth_date_from_cpr",
    "months_later",
]
