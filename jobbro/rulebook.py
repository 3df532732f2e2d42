"""Dated data files: load the versions of each kind and answer which version is in force on a date.

Generic: the kinds (a folder name and the pydantic model of its files) are given by the caller; the rules
themselves, their schemas and functions live in the `rules` package.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class RuleDataError(ValueError):
    """A rule file cannot be read, or the rule data contradicts itself."""


class RuleNotInForce(LookupError):
    """No version of a rule covers the date asked about."""


class DatedVersion(BaseModel):
    """One version of a kind of data: its name and the days it holds (an open end holds until a later version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_set_version: str = Field(min_length=1)
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} precedes valid_from {self.valid_from}")
        return self


V = TypeVar("V", bound=DatedVersion)


class Rulebook:
    """Every loaded version of every kind, so a kind can be asked for by date."""

    def __init__(self, kinds: Mapping[str, type[DatedVersion]], versions: Iterable[DatedVersion]) -> None:
        self._names = {kind: name for name, kind in kinds.items()}
        by_kind: dict[type[DatedVersion], list[DatedVersion]] = {}
        for version in versions:
            by_kind.setdefault(type(version), []).append(version)
        self._versions = {kind: tuple(sorted(found, key=lambda v: v.valid_from)) for kind, found in by_kind.items()}
        for kind, found in self._versions.items():
            self._require_unique(kind, found)

    def in_force(self, kind: type[V], on: date) -> V:
        """The version of `kind` in force on `on`: the latest starting on or before it, unless that one has ended."""
        name = self._names[kind]
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

    def versions(self) -> Iterator[DatedVersion]:
        """Every loaded version, kind by kind, oldest first."""
        for found in self._versions.values():
            yield from found

    def _require_unique(self, kind: type[DatedVersion], versions: tuple[DatedVersion, ...]) -> None:
        for field in ("valid_from", "rule_set_version"):
            values = [getattr(version, field) for version in versions]
            duplicates = sorted({str(value) for value in values if values.count(value) > 1})
            if duplicates:
                raise RuleDataError(f"{self._names[kind]}: more than one version with {field} {', '.join(duplicates)}")


def read_versions(
    directory: Path, kinds: Mapping[str, type[DatedVersion]], not_versions: frozenset[str] = frozenset()
) -> list[DatedVersion]:
    """Every `<kind>/<version>.toml` under `directory`, but for the file names in `not_versions` (examples)."""
    paths = sorted(directory.glob("*/*.toml"))
    return [_read(path, kinds) for path in paths if path.name not in not_versions]


def _read(path: Path, kinds: Mapping[str, type[DatedVersion]]) -> DatedVersion:
    kind = kinds.get(path.parent.name)
    if kind is None:
        raise RuleDataError(f"{path}: unknown rule {path.parent.name!r}; known: {sorted(kinds)}")
    try:
        with path.open("rb") as file:
            data = tomllib.load(file, parse_float=Decimal)
        return kind.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RuleDataError(f"{path}: {exc}") from exc
