"""The kit's dated-file loader knows no rule: any kind of dated data, named by its folder, is read the same way."""

from datetime import date
from pathlib import Path

import pytest

from jobbro.rulebook import DatedVersion, Rulebook, RuleDataError, RuleNotInForce, read_versions


class Tariff(DatedVersion):
    """A made-up kind of dated data."""

    amount: int


KINDS = {"tariff": Tariff}


def _write(directory: Path, name: str, text: str) -> None:
    (directory / "tariff").mkdir(exist_ok=True)
    (directory / "tariff" / name).write_text(text)


def test_reads_any_kind_and_answers_the_version_in_force(tmp_path: Path) -> None:
    _write(tmp_path, "2020.toml", 'rule_set_version = "t-2020"\nvalid_from = 2020-01-01\namount = 1\n')
    _write(tmp_path, "2024.toml", 'rule_set_version = "t-2024"\nvalid_from = 2024-01-01\namount = 2\n')
    _write(tmp_path, "notes.toml", "anything = true\n")

    book = Rulebook(KINDS, read_versions(tmp_path, KINDS, frozenset({"notes.toml"})))

    assert book.in_force(Tariff, date(2023, 12, 31)).amount == 1
    assert book.in_force(Tariff, date(2024, 1, 1)).amount == 2
    with pytest.raises(RuleNotInForce, match="no tariff rule in force on 2019-12-31"):
        book.in_force(Tariff, date(2019, 12, 31))


def test_refuses_a_file_its_kind_does_not_describe(tmp_path: Path) -> None:
    _write(tmp_path, "2020.toml", 'rule_set_version = "t-2020"\nvalid_from = 2020-01-01\n')

    with pytest.raises(RuleDataError, match="amount"):
        read_versions(tmp_path, KINDS)
