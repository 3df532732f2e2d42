"""The birth date a CPR number encodes: one function for every service (rules/dates.py)."""

from datetime import date

import pytest

from rules.dates import birth_date_from_cpr


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0101901234", date(1990, 1, 1)),  # 7th digit 1: 1900s
        ("2902004321", date(2000, 2, 29)),  # 7th digit 4, year 00: 2000s
        ("1506504321", date(1950, 6, 15)),  # 7th digit 4, year 50: 1900s
        ("3112055123", date(2005, 12, 31)),  # 7th digit 5, year 05: 2000s
        ("0107606123", date(1860, 7, 1)),  # 7th digit 6, year 60: 1800s
        ("0101585000", date(1858, 1, 1)),  # 7th digit 5, year 58: 1800s
        ("1003369123", date(2036, 3, 10)),  # 7th digit 9, year 36: 2000s
        ("1003379123", date(1937, 3, 10)),  # 7th digit 9, year 37: 1900s
    ],
)
def test_the_birth_date_and_century_are_read_from_the_cpr_number(cpr: str, born: date) -> None:
    assert birth_date_from_cpr(cpr) == born


def test_a_cpr_number_without_a_valid_date_gives_no_birth_date() -> None:
    assert birth_date_from_cpr("3102901234") is None
