"""The target groups in force, and which group each group of the previous version became."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Self

from pydantic import Field, model_validator

from rules.common import Frozen, NotInRuleData, RuleVersion

if TYPE_CHECKING:
    from rules import Rulebook


class TargetGroups(RuleVersion):
    """The groups a citizen can be registered in; other rules' tables are keyed by them."""

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


class Example(Frozen):
    """A registered group's name under the groups in force on a day (examples.toml)."""

    on: date
    registered: str

    def run(self, rulebook: Rulebook) -> dict[str, str]:
        """The group's name then, or why there is none."""
        groups = rulebook.in_force(TargetGroups, self.on)
        try:
            return {"group": groups.name_of(self.registered), "rule_set_version": groups.rule_set_version}
        except NotInRuleData as exc:
            return {"error": type(exc).__name__}
