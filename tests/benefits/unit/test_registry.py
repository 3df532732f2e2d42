"""Reading citizen imports: CSV and JSON, every bad row reported with its reason and never its CPR number."""

import csv
import io
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from services.benefits.cpr import CprCipher
from services.benefits.registry import ImportFormat, ImportRejected, Rejection, parse
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
    cipher = CprCipher({"initial": "development-only-cpr-key"})

    sealed = cipher.seal("170590-1234", "c-1")

    assert b"1705901234" not in sealed
    assert cipher.open(sealed, "c-1") == "1705901234"
    assert cipher.seal("1705901234", "c-1") != sealed  # a fresh nonce each time
    for wrong in (
        lambda: cipher.open(sealed, "c-2"),
        lambda: CprCipher({"initial": "another-key"}).open(sealed, "c-1"),
    ):
        with pytest.raises(InvalidTag):
            wrong()
