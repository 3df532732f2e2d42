"""Reading citizen imports: CSV and JSON, every bad row reported with its reason and never its CPR number."""

import csv
import io
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from jobbro.shredding import KeyDestroyed
from services.benefits.cpr import CprCipher
from services.benefits.domain import StoredCpr
from services.benefits.registry import (
    MAX_RECORD_BYTES,
    MAX_REJECTIONS,
    ImportFormat,
    ImportRejected,
    Rejection,
    RowReader,
    parse,
)
from tests.benefits.events import DATA_KEYS
from tests.benefits.factories import import_row


def _json(*rows: dict[str, Any]) -> bytes:
    return json.dumps(rows).encode()


def _csv(*rows: dict[str, Any], columns: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(rows[0]))
    writer.writeheader()
    writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in rows)
    return out.getvalue().encode()


def _rejections(content: bytes, fmt: ImportFormat) -> list[Rejection]:
    with pytest.raises(ImportRejected) as caught:
        parse(content, fmt)
    return caught.value.rejections


def test_reads_a_json_array_of_citizens() -> None:
    row = import_row(cpr="170590-1234", qualifying_education=False)

    [citizen] = parse(_json(row), ImportFormat.JSON)

    assert citizen.cpr == "1705901234"
    assert (citizen.benefit, citizen.monthly_rate_ore, citizen.qualifying_education) == ("dagpenge", 1_975_000, False)


def test_registers_a_target_group_given_in_its_deprecated_spelling_in_the_current_one() -> None:
    rows = [import_row(target_group="jobafklaring"), import_row(target_group="ressourceforloebsydelse")]

    citizens = parse(_csv(*rows), ImportFormat.CSV)

    assert [c.citizen("ref").target_group for c in citizens] == ["jobafklaringsydelse", "ressourceforloebsydelse"]


def test_reads_csv_cells_as_values_and_empty_cells_as_absent() -> None:
    rows = [import_row(unemployed_since=""), import_row(benefit="kontanthjaelp", top_up_monthly_ore=250_000)]
    rows[1]["target_group"] = "kontanthjaelp_job_ready"

    first, second = parse(_csv(*rows, columns=[*rows[1]]), ImportFormat.CSV)

    assert (first.unemployed_since, first.top_up_monthly_ore, first.single_parent) == (None, 0, False)
    assert second.top_up_monthly_ore == 250_000


def test_reports_every_bad_row_with_its_field_and_reason_and_imports_none() -> None:
    good = import_row()
    rows = [
        good,
        import_row(cpr="3213901234"),
        import_row(municipality="1010", benefit="pension"),
        import_row(benefit="none"),
        import_row(monthly_rate_ore="lots", single_parent="maybe"),
        {**good},
        import_row(top_up_monthly_ore=100),
        import_row(target_group="unregistered"),
    ]

    rejections = _rejections(_json(*rows), ImportFormat.JSON)

    assert [(r.row, r.field) for r in rejections] == [
        (2, "cpr"),
        (3, "municipality"),
        (3, "benefit"),
        (4, None),
        (5, "monthly_rate_ore"),
        (5, "single_parent"),
        (6, "cpr"),
        (7, None),
        (8, "target_group"),
    ]
    reasons = {(r.row, r.field): r.reason for r in rejections}
    assert reasons[(2, "cpr")] == "the first six digits are not a date (DDMMYY)"
    assert reasons[(4, None)] == "monthly_rate_ore must be 0 exactly when the benefit is 'none'"
    assert reasons[(6, "cpr")] == "the same citizen as row 1"
    assert "kontanthjaelp or uddannelseshjaelp" in reasons[(7, None)]


def test_never_repeats_a_cpr_number_or_other_value_in_a_reason() -> None:
    rows = [import_row(cpr="17059O1234", municipality="KBH", birth_date="17-05-1990"), import_row(extra="x")]

    rejections = _rejections(_json(*rows), ImportFormat.JSON)

    assert {r.field for r in rejections} == {"cpr", "municipality", "birth_date", "extra"}
    assert not any(value in r.reason for r in rejections for value in ("17059O1234", "KBH", "17-05-1990"))


@pytest.mark.parametrize(
    ("content", "fmt", "reason"),
    [
        (b"{not json", ImportFormat.JSON, "not JSON"),
        (b'{"cpr": "1705901234"}', ImportFormat.JSON, "a JSON import is an array"),
        (b"[]", ImportFormat.JSON, "the file holds no citizens"),
        (b"\xff\xfe", ImportFormat.CSV, "not UTF-8"),
        (b"cpr,colour\n1705901234,blue\n", ImportFormat.CSV, "unknown column(s) ['colour']; missing"),
    ],
    ids=["bad_json", "not_an_array", "empty", "not_utf8", "bad_header"],
)
def test_rejects_a_file_it_cannot_read_as_a_whole(content: bytes, fmt: ImportFormat, reason: str) -> None:
    [rejection] = _rejections(content, fmt)

    assert rejection.row == 0
    assert reason in rejection.reason


def test_a_csv_line_with_more_cells_than_columns_is_rejected() -> None:
    content = _csv(import_row()) + b"1705901234,101,dagpenge,dagpenge,1,1990-05-17,,false,true,false,surplus,cell\n"

    [rejection] = _rejections(content, ImportFormat.CSV)

    assert rejection.reason == "line 3: more cells than columns"


def test_a_sealed_cpr_number_opens_only_with_its_key_and_citizen_reference() -> None:
    cipher = CprCipher({"initial": "development-only-cpr-key"}, DATA_KEYS)

    sealed = cipher.seal("170590-1234", "c-1")

    assert b"1705901234" not in sealed
    assert cipher.open(sealed, "c-1") == "1705901234"
    assert cipher.seal("1705901234", "c-1") != sealed  # a fresh nonce each time
    for wrong in (
        lambda: cipher.open(sealed, "c-2"),
        lambda: CprCipher({"initial": "another-key"}, DATA_KEYS).open(sealed, "c-1"),
    ):
        with pytest.raises(InvalidTag):
            wrong()


def test_a_cpr_number_sealed_for_its_citizen_opens_with_their_data_key_and_never_once_it_is_destroyed() -> None:
    cipher = CprCipher({"initial": "development-only-cpr-key"}, DATA_KEYS)

    data_key, sealed = cipher.seal_for_citizen("1705901234", "c-1")

    assert b"1705901234" not in sealed
    assert cipher.open_stored(StoredCpr(sealed, shreddable=True, data_key=data_key), "c-1") == "1705901234"
    with pytest.raises(KeyDestroyed):
        cipher.open_stored(StoredCpr(sealed, shreddable=True, data_key=None), "c-1")
    with pytest.raises(InvalidTag):
        cipher.open_stored(StoredCpr(sealed, shreddable=True, data_key=cipher.seal_for_citizen("x", "c-1")[0]), "c-1")
    legacy = cipher.seal("1705901234", "c-1")  # imported before data keys: the ring alone
    assert cipher.open_stored(StoredCpr(legacy, shreddable=False, data_key=None), "c-1") == "1705901234"


def _read_in_pieces(content: bytes, fmt: ImportFormat, size: int) -> tuple[list[tuple[int, str]], RowReader]:
    reader = RowReader(fmt, max_json_bytes=len(content))
    rows = [row for start in range(0, len(content), size) for row in reader.feed(content[start : start + size])]
    return [(number, row.cpr) for number, row in rows + reader.close()], reader


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_a_streamed_csv_reads_the_same_rows_whatever_the_chunk_boundaries(size: int) -> None:
    rows = [import_row(municipality="101"), import_row(), import_row()]
    content = "\ufeff".encode() + _csv(*rows)  # a BOM and CRLF line ends (the csv module's), as Excel writes them

    read, reader = _read_in_pieces(content, ImportFormat.CSV, size)

    assert read == [(1, rows[0]["cpr"]), (2, rows[1]["cpr"]), (3, rows[2]["cpr"])]
    assert reader.rejections == []


def test_a_quoted_csv_cell_may_hold_a_line_break_across_chunks() -> None:
    row = import_row()
    content = _csv(row).replace(b"\n" + row["cpr"].encode(), b'\n"' + row["cpr"].encode() + b'\n"', 1)

    read, reader = _read_in_pieces(content, ImportFormat.CSV, 5)

    assert read == [(1, row["cpr"])]  # one record: the break is inside the cell (and stripped with its spaces)
    assert reader.rejections == []


@pytest.mark.parametrize("size", [1, 50, 100_000])
def test_json_lines_are_read_line_by_line_with_a_bad_line_reported_by_number(size: int) -> None:
    rows = [import_row(), import_row()]
    content = (json.dumps(rows[0]) + "\n{not json\n\n" + json.dumps(rows[1]) + "\n").encode()

    read, reader = _read_in_pieces(content, ImportFormat.JSONL, size)

    assert read == [(1, rows[0]["cpr"]), (3, rows[1]["cpr"])]
    assert [(r.row, r.reason.split(":")[0]) for r in reader.rejections] == [(2, "not JSON")]


def test_a_record_longer_than_the_limit_rejects_the_file_without_holding_it() -> None:
    reader = RowReader(ImportFormat.JSONL, max_json_bytes=0)

    with pytest.raises(ImportRejected) as caught:
        for _ in range(MAX_RECORD_BYTES // 1024 + 2):
            reader.feed(b"x" * 1024)

    assert "a record longer than" in caught.value.rejections[0].reason


def test_reports_the_first_rejections_only() -> None:
    content = _csv(*[import_row(municipality="x")] * (MAX_REJECTIONS + 30))

    rejections = _rejections(content, ImportFormat.CSV)

    assert len(rejections) == MAX_REJECTIONS
    assert [r.row for r in rejections] == list(range(1, MAX_REJECTIONS + 1))
