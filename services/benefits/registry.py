"""Reading a citizen import (CSV with a header row, or a JSON array of objects): every row is validated and
every rejected row reported with its reason, so an import is all or nothing.

Rows are numbered from 1, the first citizen (in a CSV file, the line after the header). Reasons never repeat
the value given, so a report can be shown and logged without CPR numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.benefits import Benefit, TargetGroup
from services.benefits.domain import NO_BENEFIT, TOP_UP_BENEFITS, UNREGISTERED, BenefitsError, Citizen


class ImportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class Rejection:
    """Why one row (0: the file as a whole) cannot be imported."""

    row: int
    field: str | None
    reason: str


class ImportRejected(BenefitsError):
    """The file has rejected rows; nothing was imported."""

    def __init__(self, rejections: list[Rejection]) -> None:
        super().__init__(f"{len(rejections)} problem(s); nothing imported")
        self.rejections = rejections


_MAX_MONTHLY_ORE = 10_000_000_00
"""Ten million kroner a month: far above any benefit, far below what the ledger's bigint columns hold."""


class CitizenRow(BaseModel):
    """One citizen as the import states them; CSV cells arrive as text and are read like JSON values."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    cpr: str = Field(description="CPR number: ten digits, DDMMYY and four more, optionally with a dash between.")
    municipality: str = Field(pattern=r"^\d{3}$", description="Municipality code (kommunekode).")
    benefit: Benefit
    target_group: TargetGroup
    monthly_rate_ore: int = Field(ge=0, le=_MAX_MONTHLY_ORE, description="The benefit a full month pays, in øre.")
    top_up_monthly_ore: int = Field(
        0, ge=0, le=_MAX_MONTHLY_ORE, description="The top-up a full month pays during a wage-subsidy job."
    )
    birth_date: date
    unemployed_since: date | None = None
    single_parent: bool
    upper_secondary_or_vocational_education: bool
    newly_graduated: bool
    qualifying_education: bool | None = None

    def citizen(self, citizen_ref: str) -> Citizen:
        """The registry's record of this row, under the citizen's reference instead of the CPR number."""
        return Citizen(
            citizen_ref=citizen_ref,
            municipality=self.municipality,
            benefit=self.benefit.value,
            target_group=self.target_group.value,
            monthly_rate_ore=self.monthly_rate_ore,
            top_up_monthly_ore=self.top_up_monthly_ore,
            birth_date=self.birth_date,
            unemployed_since=self.unemployed_since,
            single_parent=self.single_parent,
            upper_secondary_or_vocational_education=self.upper_secondary_or_vocational_education,
            newly_graduated=self.newly_graduated,
            qualifying_education=self.qualifying_education,
        )

    @field_validator("cpr")
    @classmethod
    def _cpr_is_ten_digits_starting_with_a_date(cls, cpr: str) -> str:
        digits = cpr[:6] + cpr[7:] if cpr[6:7] == "-" else cpr
        if not (len(digits) == 10 and digits.isascii() and digits.isdigit()):
            raise ValueError("a CPR number is ten digits, DDMMYY and four more (a dash between is allowed)")
        try:
            date(2000, int(digits[2:4]), int(digits[:2]))  # a leap year: 29 February is a valid CPR date
        except ValueError:
            raise ValueError("the first six digits are not a date (DDMMYY)") from None
        return digits

    @field_validator("target_group")
    @classmethod
    def _registered_group(cls, group: TargetGroup) -> TargetGroup:
        if group == UNREGISTERED:
            raise ValueError("'unregistered' is not a target group a citizen can be registered with")
        return group

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.benefit == NO_BENEFIT) != (self.monthly_rate_ore == 0):
            raise ValueError("monthly_rate_ore must be 0 exactly when the benefit is 'none'")
        if self.top_up_monthly_ore and self.benefit not in TOP_UP_BENEFITS:
            raise ValueError(f"a top-up is paid only with {' or '.join(sorted(TOP_UP_BENEFITS))}")
        if self.unemployed_since is not None and self.unemployed_since < self.birth_date:
            raise ValueError("unemployed_since precedes birth_date")
        return self


_COLUMNS = frozenset(CitizenRow.model_fields)
_REQUIRED = frozenset(name for name, field in CitizenRow.model_fields.items() if field.is_required())


def parse(content: bytes, fmt: ImportFormat) -> list[CitizenRow]:
    """Every row of the file, validated; raises `ImportRejected` listing every problem if there is one."""
    try:
        text = content.decode("utf-8-sig")
        records = _csv_records(text) if fmt is ImportFormat.CSV else _json_records(text)
    except (UnicodeDecodeError, ValueError, csv.Error, RecursionError) as exc:
        raise ImportRejected([Rejection(0, None, _file_problem(exc))]) from None
    rows, rejections = _validated(records)
    if not rows and not rejections:
        rejections.append(Rejection(0, None, "the file holds no citizens"))
    if rejections:
        raise ImportRejected(rejections)
    return rows


def _csv_records(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = set(reader.fieldnames or ())
    unknown, missing = header - _COLUMNS, _REQUIRED - header
    if unknown or missing:
        parts = [
            f"unknown column(s) {sorted(unknown)}" if unknown else "",
            f"missing {sorted(missing)}" if missing else "",
        ]
        raise ValueError("header: " + "; ".join(part for part in parts if part))
    records = []
    for record in reader:
        if None in record:
            raise ValueError(f"line {reader.line_num}: more cells than columns")
        records.append({name: value for name, value in record.items() if value not in ("", None)})
    return records


def _json_records(text: str) -> list[Any]:
    records = json.loads(text)
    if not isinstance(records, list):
        raise ValueError("a JSON import is an array of citizen objects")
    return records


def _validated(records: Iterable[Any]) -> tuple[list[CitizenRow], list[Rejection]]:
    rows: list[CitizenRow] = []
    rejections: list[Rejection] = []
    first_row_of: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            rejections.append(Rejection(number, None, "not an object"))
            continue
        try:
            row = CitizenRow.model_validate(record)
        except ValidationError as exc:
            rejections.extend(_rejections(number, exc))
            continue
        if row.cpr in first_row_of:
            rejections.append(Rejection(number, "cpr", f"the same citizen as row {first_row_of[row.cpr]}"))
            continue
        first_row_of[row.cpr] = number
        rows.append(row)
    return rows, rejections


def _rejections(number: int, exc: ValidationError) -> list[Rejection]:
    """One rejection per invalid field, from pydantic's message only (its `input` would show the value)."""
    return [
        Rejection(
            number, ".".join(str(part) for part in error["loc"]) or None, error["msg"].removeprefix("Value error, ")
        )
        for error in exc.errors(include_url=False, include_input=False)
    ]


def _file_problem(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "the file is not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at line {exc.lineno}"
    return str(exc)
