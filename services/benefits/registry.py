"""Reading a citizen import (CSV with a header row, JSON Lines, or a JSON array of objects): every row is
validated and rejected rows reported with their reasons (the first `MAX_REJECTIONS`), so an import is all or
nothing. CSV and JSON Lines are read as a stream, record by record; a JSON array is read whole and so is bounded.

Rows are numbered from 1, the first citizen (in a CSV file, the line after the header). Reasons never repeat
the value given, so a report can be shown and logged without CPR numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.benefits import Benefit, CurrentTargetGroup, TargetGroup
from services.benefits.domain import NO_BENEFIT, TOP_UP_BENEFITS, UNREGISTERED, BenefitsError, Citizen


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
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
        more = " (reading stopped there)" if len(rejections) >= MAX_REJECTIONS else ""
        super().__init__(f"{len(rejections)} problem(s){more}; nothing imported")
        self.rejections = rejections


_MAX_MONTHLY_ORE = 10_000_000_00
"""Ten million kroner a month: far above any benefit, far below what the ledger's bigint columns hold."""


class CitizenRow(BaseModel):
    """One citizen as the import states them; CSV cells arrive as text and are read like JSON values."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    cpr: str = Field(description="CPR number: ten digits, DDMMYY and four more, optionally with a dash between.")
    municipality: str = Field(pattern=r"^\d{3}$", description="Municipality code (kommunekode).")
    benefit: Benefit
    target_group: CurrentTargetGroup
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
MAX_REJECTIONS = 20
"""Rejections an import reports at most: reading stops there (nothing is imported either way)."""
MAX_RECORD_BYTES = 64 * 1024
"""A longer CSV record or JSON line is refused: a streamed import holds at most one record at a time."""


class ImportTooLarge(BenefitsError):
    """A JSON array over its limit (a larger file is sent as CSV or JSON Lines, which are streamed)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"a JSON array may be at most {max_bytes} bytes; send CSV or JSON Lines to import more")
        self.max_bytes = max_bytes


def parse(content: bytes, fmt: ImportFormat) -> list[CitizenRow]:
    """Every row of a file held in memory, validated; raises `ImportRejected` listing its problems if there is one."""
    reader = RowReader(fmt, max_json_bytes=len(content))
    numbered = reader.feed(content) + reader.close()
    first_row_of: dict[str, int] = {}
    rows = []
    for number, row in numbered:
        if row.cpr in first_row_of:
            reader.reject(Rejection(number, "cpr", f"the same citizen as row {first_row_of[row.cpr]}"))
            continue
        first_row_of[row.cpr] = number
        rows.append(row)
    reader.raise_rejected()
    return rows


class RowReader:
    """Reads an import chunk by chunk and hands out its valid rows, numbered, as their records complete.

    CSV and JSON Lines are read record by record, so memory holds one chunk and one record whatever the file's
    size; a JSON array is held whole, up to `max_json_bytes`. Rejected rows are kept (the first
    `MAX_REJECTIONS`); a file it cannot read at all raises `ImportRejected` at once. Numbering is the file's.
    """

    def __init__(self, fmt: ImportFormat, *, max_json_bytes: int) -> None:
        self.fmt = fmt
        self.rejections: list[Rejection] = []
        self.rows = 0
        self._max_json_bytes = max_json_bytes
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self._lines = 0
        self._header: list[str] | None = None
        self._json: list[str] = []
        self._json_size = 0

    @property
    def full(self) -> bool:
        """Whether it has rejected as many rows as it reports: reading on would tell nothing new."""
        return len(self.rejections) >= MAX_REJECTIONS

    def feed(self, chunk: bytes) -> list[tuple[int, CitizenRow]]:
        """The valid rows whose records `chunk` completes."""
        return self._read(chunk, final=False)

    def close(self) -> list[tuple[int, CitizenRow]]:
        """The valid rows of the rest; the file must end here."""
        return self._read(b"", final=True)

    def reject(self, rejection: Rejection) -> None:
        if not self.full:
            self.rejections.append(rejection)

    def raise_rejected(self) -> None:
        """Raise `ImportRejected` with the rejections, if any (an empty file is one)."""
        if not self.rows and not self.rejections:
            self.rejections.append(Rejection(0, None, "the file holds no citizens"))
        if self.rejections:
            raise ImportRejected(sorted(self.rejections, key=lambda rejection: rejection.row))

    def _read(self, chunk: bytes, *, final: bool) -> list[tuple[int, CitizenRow]]:
        try:
            text = self._decoder.decode(chunk, final)
            if self.fmt is ImportFormat.JSON:
                return self._json_array(text, final)
            complete = self._complete_records(text, final)
            records = self._csv(complete) if self.fmt is ImportFormat.CSV else self._json_lines(complete)
            self._lines += complete.count("\n")
            return self._validated(records)
        except (UnicodeDecodeError, ValueError, csv.Error, RecursionError) as exc:
            raise ImportRejected([Rejection(0, None, _file_problem(exc))]) from None

    def _complete_records(self, text: str, final: bool) -> str:
        """The text up to the end of the last complete record; the rest waits for the next chunk."""
        text = self._pending + text
        end = len(text) if final else _end_of_last_record(text, quoted=self.fmt is ImportFormat.CSV)
        complete, self._pending = text[:end], text[end:]
        if len(self._pending) > MAX_RECORD_BYTES:
            raise ValueError(f"line {self._lines + 1}: a record longer than {MAX_RECORD_BYTES} characters")
        return complete

    def _csv(self, text: str) -> list[tuple[int, Any]]:
        records = []
        reader = csv.reader(io.StringIO(text, newline=""))
        for cells in reader:
            line = self._lines + reader.line_num
            if self._header is None:
                self._header = _checked_header(cells)
                continue
            if not cells:
                continue
            if len(cells) > len(self._header):
                raise ValueError(f"line {line}: more cells than columns")
            records.append((self._next_row(), {n: v for n, v in zip(self._header, cells, strict=False) if v != ""}))
        return records

    def _json_lines(self, text: str) -> list[tuple[int, Any]]:
        records = []
        for line in text.split("\n"):
            if not line.strip():
                continue
            number = self._next_row()
            try:
                records.append((number, json.loads(line)))
            except (ValueError, RecursionError) as exc:
                problem = f"not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "not JSON"
                self.reject(Rejection(number, None, problem))
        return records

    def _json_array(self, text: str, final: bool) -> list[tuple[int, CitizenRow]]:
        self._json.append(text)
        self._json_size += len(text)
        if self._json_size > self._max_json_bytes:
            raise ImportTooLarge(self._max_json_bytes)
        if not final:
            return []
        records = json.loads("".join(self._json))
        self._json.clear()
        if not isinstance(records, list):
            raise ValueError("a JSON import is an array of citizen objects")
        return self._validated((self._next_row(), record) for record in records)

    def _next_row(self) -> int:
        self.rows += 1
        return self.rows

    def _validated(self, records: Iterable[tuple[int, Any]]) -> list[tuple[int, CitizenRow]]:
        rows = []
        for number, record in records:
            if not isinstance(record, Mapping):
                self.reject(Rejection(number, None, "not an object"))
                continue
            try:
                rows.append((number, CitizenRow.model_validate(record)))
            except ValidationError as exc:
                for rejection in _rejections(number, exc):
                    self.reject(rejection)
        return rows


def _end_of_last_record(text: str, *, quoted: bool) -> int:
    """Where the last complete line ends (in CSV, the last line that does not end inside a quoted cell)."""
    if not quoted:
        return text.rfind("\n") + 1
    end = position = 0
    inside = False
    for line in text.splitlines(keepends=True):
        position += len(line)
        inside ^= line.count('"') % 2 == 1
        if not inside and line.endswith("\n"):
            end = position
    return end


def _checked_header(header: list[str]) -> list[str]:
    unknown, missing = set(header) - _COLUMNS, _REQUIRED - set(header)
    if unknown or missing:
        parts = [
            f"unknown column(s) {sorted(unknown)}" if unknown else "",
            f"missing {sorted(missing)}" if missing else "",
        ]
        raise ValueError("header: " + "; ".join(part for part in parts if part))
    return header


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
