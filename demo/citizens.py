"""The demo's citizens: fresh random CPR numbers each run (so the demo can run again on the same stack), and the
rows the benefit registry imports. A CPR number is never printed: a citizen is shown by `label`."""

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Citizen:
    """One person in the benefit registry, as the municipality's import states them."""

    label: str
    cpr: str
    benefit: str
    target_group: str
    monthly_rate_ore: int
    top_up_monthly_ore: int
    birth_date: date
    unemployed_since: date

    def row(self, municipality: str) -> dict[str, Any]:
        """The registry's import row (`POST /v1/admin/citizens/import`, JSON)."""
        return {
            "cpr": self.cpr,
            "municipality": municipality,
            "benefit": self.benefit,
            "target_group": self.target_group,
            "monthly_rate_ore": self.monthly_rate_ore,
            "top_up_monthly_ore": self.top_up_monthly_ore,
            "birth_date": self.birth_date.isoformat(),
            "unemployed_since": self.unemployed_since.isoformat(),
            "single_parent": False,
            "upper_secondary_or_vocational_education": True,
            "newly_graduated": False,
        }


def random_cpr(birth: date) -> str:
    """A CPR number for someone born in the 20th century on `birth` (7th digit 0–3), its last four random."""
    return f"{birth:%d%m%y}{secrets.randbelow(4)}{secrets.randbelow(1000):03d}"


def citizen(label: str, benefit: str, target_group: str, monthly_rate_ore: int, **facts: Any) -> Citizen:
    """A citizen born on a random day of 1975–1999, with a fresh CPR number."""
    birth = date(1975 + secrets.randbelow(25), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28))
    return Citizen(
        label=label,
        cpr=random_cpr(birth),
        benefit=benefit,
        target_group=target_group,
        monthly_rate_ore=monthly_rate_ore,
        top_up_monthly_ore=facts.pop("top_up_monthly_ore", 0),
        birth_date=birth,
        **facts,
    )
