"""The target groups in force, and which group each group of the previous version became."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from rules.common import NotInRuleData, RuleVersion


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
