"""The state-aid cap: a private wage subsidy per paid hour within half the wage costs per paid hour."""

from datetime import date
from decimal import Decimal

import pytest

from rules import Outcome, Rulebook, Sector
from services.subsidy.eligibility import check_state_aid_cap, missing_payment_rule

START_2023 = date(2023, 3, 1)  # the 2023 private rate is 86.16 DKK per hour


@pytest.mark.parametrize(
    ("wage_costs", "outcome"),
    [("172.32", Outcome.PASSED), ("172.31", Outcome.FAILED), ("300.00", Outcome.PASSED), ("100.00", Outcome.FAILED)],
)
def test_caps_the_private_subsidy_at_half_the_wage_costs(rulebook: Rulebook, wage_costs: str, outcome: Outcome) -> None:
    result = check_state_aid_cap(Sector.PRIVATE, Decimal(wage_costs), START_2023, rulebook)

    assert result.outcome is outcome
    assert result.rule_set_version == "state-aid-2018.1"


def test_does_not_cap_a_public_employer(rulebook: Rulebook) -> None:
    assert check_state_aid_cap(Sector.PUBLIC, Decimal("1.00"), START_2023, rulebook).outcome is Outcome.PASSED


def test_needs_a_caseworker_while_the_rate_for_the_start_date_is_missing(rulebook: Rulebook) -> None:
    result = check_state_aid_cap(Sector.PRIVATE, Decimal("300.00"), date(2022, 4, 4), rulebook)  # 2022: no rates held

    assert result.outcome is Outcome.NEEDS_JUDGEMENT
    assert "2022-04-04" in result.reason


def test_names_the_rule_a_month_could_not_be_paid_without(rulebook: Rulebook) -> None:
    missing = missing_payment_rule(Sector.PRIVATE, date(2022, 1, 1), rulebook)  # 2022: no rates held

    assert missing is not None and missing.rule == "subsidy_rates" and "2022-01-01" in missing.detail
    assert missing_payment_rule(Sector.PUBLIC, date(2026, 11, 1), rulebook) is None
