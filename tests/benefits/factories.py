"""Test data for the benefits tests: valid CPR numbers, citizens, import rows, random ids."""

import random
from dataclasses import replace
from datetime import date
from typing import Any

from services.benefits.domain import Citizen


def random_cpr() -> str:
    """A CPR number (10 digits, DDMMYY first) no other test is likely to use."""
    birth_date = date(random.randrange(1940, 2005), random.randrange(1, 13), random.randrange(1, 29))
    return f"{birth_date:%d%m%y}{random.randrange(10_000):04d}"


def citizen(**changes: Any) -> Citizen:
    """A registered dagpenge recipient, unemployed since 6 October 2025."""
    base = Citizen(
        citizen_ref=f"c-{random.getrandbits(64):016x}",
        municipality="101",
        benefit="dagpenge",
        target_group="dagpenge",
        monthly_rate_ore=1_975_000,
        top_up_monthly_ore=0,
        birth_date=date(1990, 5, 17),
        unemployed_since=date(2025, 10, 6),
        single_parent=False,
        upper_secondary_or_vocational_education=True,
        newly_graduated=False,
        qualifying_education=True,
    )
    return replace(base, **changes)


def import_rows(count: int, **changes: Any) -> list[dict[str, Any]]:
    """`count` valid rows with distinct CPR numbers."""
    cprs: set[str] = set()
    while len(cprs) < count:
        cprs.add(random_cpr())
    return [import_row(cpr=cpr, **changes) for cpr in sorted(cprs)]


def import_row(**changes: Any) -> dict[str, Any]:
    """One valid row of a citizen import, as JSON would carry it."""
    row: dict[str, Any] = {
        "cpr": random_cpr(),
        "municipality": "101",
        "benefit": "dagpenge",
        "target_group": "dagpenge",
        "monthly_rate_ore": 1_975_000,
        "birth_date": "1990-05-17",
        "unemployed_since": "2025-10-06",
        "single_parent": False,
        "upper_secondary_or_vocational_education": True,
        "newly_graduated": False,
    }
    return {**row, **changes}
