"""What every rule shares: the fields of a rule file, its legal reference, and the result a rule's function returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from jobbro.rulebook import DatedVersion

DKK = Annotated[Decimal, Field(gt=0, decimal_places=2)]
Share = Annotated[Decimal, Field(gt=0, le=1)]


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


class Frozen(BaseModel):
    """Rule data: immutable, and a key the schema does not know is an error, not silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalReference(Frozen):
    """Where the rule is written: the act (with its consolidation number) and the paragraph or chapter."""

    act: str = Field(min_length=1)
    paragraph: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.paragraph}, {self.act}"


class RuleVersion(DatedVersion):
    """The fields every rule file carries: which version, when it holds, the law, the sources, what is unconfirmed."""

    legal_reference: LegalReference
    sources: tuple[str, ...] = Field(min_length=1)
    unconfirmed: tuple[str, ...] = ()

    @property
    def target_group_names(self) -> frozenset[str]:
        """Target groups this version's tables name, checked against the groups in force at load time."""
        return frozenset()


@dataclass(frozen=True)
class Fact:
    """One input a rule read, as text (dates ISO, amounts exact), so a decision can show what it was decided on."""

    name: str
    value: str


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome with its reason in English and Danish, the version and law it applied, and its inputs."""

    rule: str
    outcome: Outcome
    reason: str
    rule_set_version: str
    reason_da: str = ""
    legal_reference: LegalReference | None = None
    facts: tuple[Fact, ...] = ()
    also_read: tuple[str, ...] = ()
    """Versions of other rules' data the result used (the state-aid cap reads the rates), so a decision names them
    among its rule-set versions rather than only in a reason text."""


def result(
    rule: str,
    outcome: Outcome,
    reason: str,
    reason_da: str,
    version: RuleVersion,
    facts: Mapping[str, object] | None = None,
) -> RuleResult:
    """A result stamped with the version that produced it and its legal reference."""
    return RuleResult(
        rule,
        outcome,
        reason,
        version.rule_set_version,
        reason_da,
        version.legal_reference,
        facts_of(facts or {}),
    )


def facts_of(values: Mapping[str, object]) -> tuple[Fact, ...]:
    """Facts as text, leaving out those not known (None)."""
    return tuple(Fact(name, _text(value)) for name, value in values.items() if value is not None)


def _text(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def observed(found: RuleResult) -> dict[str, str]:
    """A result as an example compares it: the outcome, the reasons, the version, and every fact by name."""
    return {
        "outcome": found.outcome.value,
        "reason": found.reason,
        "reason_da": found.reason_da,
        "rule_set_version": found.rule_set_version,
        **{fact.name: fact.value for fact in found.facts},
    }
