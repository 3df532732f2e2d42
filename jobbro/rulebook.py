"""Dated rule data: load the versioned TOML files under rules/ and answer which version is in force on a date."""

from __future__ import annotations

import calendar
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, ValidationError, model_validator

REPOSITORY_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

DKK = Annotated[Decimal, Field(gt=0, decimal_places=2)]
Share = Annotated[Decimal, Field(gt=0, le=1)]


class RuleDataError(ValueError):
    """A rule file cannot be read, or the rule data contradicts itself."""


class RuleNotInForce(LookupError):
    """No version of a rule covers the date asked about."""


class NotInRuleData(LookupError):
    """The version in force has no entry for what was asked (a target group, a rate category)."""


class Sector(StrEnum):
    """Whether the employer is a private company or a public authority; the rules differ."""

    PRIVATE = "private"
    PUBLIC = "public"


class Outcome(StrEnum):
    """What one rule says about a case."""

    PASSED = "passed"
    FAILED = "failed"
    NEEDS_JUDGEMENT = "needs_judgement"
    WARNING = "warning"


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict with its reason, stamped with the rule-set version that produced it."""

    rule: str
    outcome: Outcome
    reason: str
    rule_set_version: str
    also_read: tuple[str, ...] = ()
    """Versions of other rules' data the verdict used (the state-aid cap reads the rates), so a decision names
    them among its rule-set versions rather than only in a reason text."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalReference(_Frozen):
    """Where in the law a rule's numbers come from: the act (with its number and date) and the paragraph."""

    act: str = Field(min_length=1)
    paragraph: str = Field(min_length=1)


class RuleVersion(_Frozen):
    """The fields every rule file carries: which version it is, when it holds, and where it comes from."""

    rule_set_version: str = Field(min_length=1)
    valid_from: date
    valid_to: date | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    unconfirmed: tuple[str, ...] = ()
    legal_reference: LegalReference | None = None
    """Optional until every rule file names one."""

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} precedes valid_from {self.valid_from}")
        return self

    @property
    def target_group_names(self) -> frozenset[str]:
        """Target groups this version's tables name, checked against the groups in force at load time."""
        return frozenset()


class RatioRule(RuleVersion):
    """Ratio rule (rimelighedskrav): the formula's thresholds, in full-time equivalents."""

    minimum_placements: PositiveInt
    tier_limit_fte: PositiveInt
    fte_per_placement_up_to_limit: PositiveInt
    fte_per_placement_above_limit: PositiveInt


class InternshipExtension(_Frozen):
    """Longer internships for new graduates and for older long-term unemployed persons."""

    max_weeks: PositiveInt
    new_graduate_target_groups: tuple[str, ...]
    from_age: PositiveInt
    min_months_unemployed: PositiveInt


class InternshipRule(RuleVersion):
    """Company internship: weekly hours limit and maximum length per target group."""

    max_hours_per_week: Annotated[Decimal, Field(gt=0)]
    max_weeks: dict[str, PositiveInt]
    unlimited_target_groups: tuple[str, ...] = ()
    extension: InternshipExtension

    @model_validator(mode="after")
    def _each_group_limited_or_unlimited(self) -> Self:
        both = set(self.max_weeks) & set(self.unlimited_target_groups)
        if both:
            raise ValueError(f"groups both limited and unlimited: {sorted(both)}")
        return self

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(self.max_weeks).union(self.unlimited_target_groups, self.extension.new_graduate_target_groups)

    def max_weeks_for(
        self, target_group: str, *, newly_graduated: bool, birth_date: date, unemployed_since: date | None, on: date
    ) -> int | None:
        """Maximum weeks for an internship starting `on`; None when the group has no maximum."""
        if target_group in self.unlimited_target_groups:
            return None
        if target_group not in self.max_weeks:
            raise NotInRuleData(f"{self.rule_set_version} has no internship maximum for target group {target_group!r}")
        weeks = self.max_weeks[target_group]
        extended = self.extension
        new_graduate = newly_graduated and target_group in extended.new_graduate_target_groups
        older_long_term = (
            age_on(birth_date, on) >= extended.from_age
            and unemployed_since is not None
            and months_later(unemployed_since, extended.min_months_unemployed) <= on
        )
        return max(weeks, extended.max_weeks) if new_graduate or older_long_term else weeks


class SectorMonths(_Frozen):
    """A sector's wage-subsidy maximum: per target group, else the default."""

    default: PositiveInt | None = None
    by_target_group: dict[str, PositiveInt] = {}


class WageSubsidyDurationRule(RuleVersion):
    """Wage subsidy: maximum length in months per employer sector and target group."""

    max_months: dict[Sector, SectorMonths]

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(group for months in self.max_months.values() for group in months.by_target_group)

    def max_months_for(self, sector: Sector, target_group: str) -> int:
        """Maximum months of wage subsidy for this sector and group."""
        months = self.max_months.get(sector, SectorMonths())
        found = months.by_target_group.get(target_group, months.default)
        if found is None:
            raise NotInRuleData(
                f"{self.rule_set_version} has no wage-subsidy maximum for a {sector} employer and target group "
                f"{target_group!r}"
            )
        return found


class PriorUnemploymentRule(RuleVersion):
    """Wage subsidy: months of unemployment required before the start, and who is exempt."""

    min_months: PositiveInt
    applies_to_target_groups: tuple[str, ...]
    exempt_from_age: PositiveInt
    exempt_single_parents: bool
    exempt_without_upper_secondary_or_vocational_education: bool

    @property
    def target_group_names(self) -> frozenset[str]:
        return frozenset(self.applies_to_target_groups)


class NetAdditionalEmploymentRule(RuleVersion):
    """Wage subsidy: the employer's headcount may not fall, and the post may not replace a recently vacated one."""

    headcount_lookback_months: PositiveInt
    vacated_post_window_months: PositiveInt
    public_employer_attestation_required: bool


class StateAidRule(RuleVersion):
    """Cap on a year's wage subsidy as a share of the year's wage costs."""

    max_subsidy_share_of_wage_costs: Share
    applies_to_sectors: tuple[Sector, ...]


class SubsidyRates(RuleVersion):
    """Wage-subsidy hourly rates in DKK, by rate category (a sector, or a sector's special rate)."""

    hourly_rates: dict[str, DKK]

    def hourly_rate(self, category: str) -> Decimal:
        """DKK per paid hour for this rate category."""
        if category not in self.hourly_rates:
            raise NotInRuleData(f"{self.rule_set_version} has no {category!r} rate")
        return self.hourly_rates[category]


class OfferDeadline(_Frozen):
    """When a matching citizen's first offer is due, counted from the unemployment start."""

    name: str
    target_groups: tuple[str, ...]
    under_age: PositiveInt | None = None
    only_without_qualifying_education: bool = False
    due_after_months: NonNegativeInt
    continuous: bool = False


class OfferExemption(_Frozen):
    """Share of citizens a municipality may exempt from offers during their first months."""

    max_share: Share
    window_months: PositiveInt
    target_groups: tuple[str, ...]


class TimelinessRule(RuleVersion):
    """Activation timeliness (ret og pligt): offer deadlines, first match wins, and any exemption."""

    deadlines: tuple[OfferDeadline, ...]
    exemption: OfferExemption | None = None

    @property
    def target_group_names(self) -> frozenset[str]:
        exempted = self.exemption.target_groups if self.exemption else ()
        return frozenset(group for deadline in self.deadlines for group in deadline.target_groups).union(exempted)


class RecentEmployer(_Frozen):
    """Which applications may not be at the employer of the citizen's latest placement of which schemes."""

    schemes: frozenset[str] = Field(min_length=1)
    earlier_schemes: frozenset[str] = Field(min_length=1)


class PlanCheckRule(RuleVersion):
    """Activation's checks of an application against the citizen's plan: overlaps and the latest employer."""

    recent_employer: RecentEmployer


class TargetGroups(RuleVersion):
    """The target groups in force, and which group each group of the previous version became."""

    groups: tuple[str, ...] = Field(min_length=1)
    replaces: dict[str, str] = {}

    @model_validator(mode="after")
    def _replaced_by_groups_of_this_version(self) -> Self:
        unknown = set(self.replaces.values()) - set(self.groups)
        if unknown:
            raise ValueError(f"replaces maps to groups not in this version: {sorted(unknown)}")
        return self

    def name_of(self, registered: str) -> str:
        """A citizen's group under this version: itself if still a group, else the group that replaced it."""
        if registered in self.groups:
            return registered
        if registered in self.replaces:
            return self.replaces[registered]
        raise NotInRuleData(f"target group {registered!r} is not known to {self.rule_set_version}")


_KINDS: dict[str, type[RuleVersion]] = {
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
_KIND_NAMES = {kind: name for name, kind in _KINDS.items()}

R = TypeVar("R", bound=RuleVersion)


class Rulebook:
    """Every loaded version of every rule, so a rule can be asked for by kind and date."""

    def __init__(self, versions: Iterable[RuleVersion]) -> None:
        by_kind: dict[type[RuleVersion], list[RuleVersion]] = {}
        for version in versions:
            by_kind.setdefault(type(version), []).append(version)
        self._versions = {kind: tuple(sorted(found, key=lambda v: v.valid_from)) for kind, found in by_kind.items()}
        for kind, found in self._versions.items():
            _require_unique(kind, found)
        self._require_known_target_groups()

    @classmethod
    def load(cls, directory: Path) -> Rulebook:
        """Read every `<rule>/<version>.toml` under `directory`."""
        return cls(_read(path) for path in sorted(directory.glob("*/*.toml")))

    def in_force(self, kind: type[R], on: date) -> R:
        """The version of `kind` in force on `on`: the latest starting on or before it, unless that one has ended."""
        name = _KIND_NAMES[kind]
        versions = self._versions.get(kind, ())
        if not versions:
            raise RuleNotInForce(f"no {name} rule in force on {on}: no version is loaded")
        started = [version for version in versions if version.valid_from <= on]
        if started and (started[-1].valid_to is None or on <= started[-1].valid_to):
            return started[-1]  # type: ignore[return-value]
        later = versions[len(started) :]
        ended = f"{started[-1].rule_set_version} ended {started[-1].valid_to}; " if started else ""
        upcoming = f"the next, {later[0].rule_set_version}, starts {later[0].valid_from}" if later else "none later"
        raise RuleNotInForce(f"no {name} rule in force on {on}: {ended}{upcoming}")

    def target_group(self, registered: str, on: date) -> str:
        """The name of a citizen's target group under the groups in force on `on`."""
        return self.in_force(TargetGroups, on).name_of(registered)

    def group_key(self, rule: RuleVersion, registered: str) -> str:
        """The name `rule`'s tables use for a citizen's group: tables use the groups in force when the rule began."""
        return self.target_group(registered, rule.valid_from)

    def _require_known_target_groups(self) -> None:
        for versions in self._versions.values():
            for version in versions:
                if not version.target_group_names:
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


def months_later(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier); the 1st of the next month when that day is missing."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    if day.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, day.day)
    return date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=1)


def age_on(birth_date: date, day: date) -> int:
    """Whole years lived on `day`; someone born on 29 February turns a year older on 1 March in other years."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _read(path: Path) -> RuleVersion:
    kind = _KINDS.get(path.parent.name)
    if kind is None:
        raise RuleDataError(f"{path}: unknown rule {path.parent.name!r}; known: {sorted(_KINDS)}")
    try:
        with path.open("rb") as file:
            data = tomllib.load(file, parse_float=Decimal)
        return kind.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RuleDataError(f"{path}: {exc}") from exc


def _require_unique(kind: type[RuleVersion], versions: tuple[RuleVersion, ...]) -> None:
    for field in ("valid_from", "rule_set_version"):
        values = [getattr(version, field) for version in versions]
        duplicates = sorted({str(value) for value in values if values.count(value) > 1})
        if duplicates:
            raise RuleDataError(f"{_KIND_NAMES[kind]}: more than one version with {field} {', '.join(duplicates)}")
