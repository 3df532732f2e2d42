"""The rulebook: dated rule data, loaded and validated, with one lookup for every rule."""

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rules import (
    EXAMPLES,
    REPOSITORY_RULES_DIR,
    InternshipRule,
    RatioRule,
    Rulebook,
    RuleDataError,
    RuleNotInForce,
    SubsidyRates,
    TargetGroups,
    TimelinessRule,
    age_on,
    months_later,
)


def test_every_repository_rule_file_states_sources_and_version(rulebook: Rulebook) -> None:
    files = sorted(path for path in REPOSITORY_RULES_DIR.glob("*/*.toml") if path.name != EXAMPLES)
    assert len(files) >= 13
    for path in files:
        data = tomllib.loads(path.read_text())
        assert data["sources"] and data["rule_set_version"] and data["valid_from"], path
        assert data["legal_reference"]["act"] and data["legal_reference"]["paragraph"], path
    for kind in (RatioRule, InternshipRule, TimelinessRule, TargetGroups, SubsidyRates):
        version = rulebook.in_force(kind, date(2023, 6, 1))
        assert version.sources and version.rule_set_version


def test_picks_the_latest_version_starting_on_or_before_the_date(rulebook: Rulebook) -> None:
    assert rulebook.in_force(TimelinessRule, date(2026, 6, 30)).rule_set_version == "timeliness-2018.1"
    assert rulebook.in_force(TimelinessRule, date(2026, 7, 1)).rule_set_version == "timeliness-2026.1"


def test_refuses_a_date_before_every_version(rulebook: Rulebook) -> None:
    with pytest.raises(RuleNotInForce, match=r"no ratio rule in force on 2017-12-31: the next, ratio-2018\.1"):
        rulebook.in_force(RatioRule, date(2017, 12, 31))


def test_rates_change_at_the_year_boundary(rulebook: Rulebook) -> None:
    assert rulebook.in_force(SubsidyRates, date(2021, 12, 31)).hourly_rate("private") == Decimal("82.90")
    assert rulebook.in_force(SubsidyRates, date(2023, 1, 1)).hourly_rate("private") == Decimal("86.16")


def test_refuses_a_year_without_published_rates_naming_the_neighbours(rulebook: Rulebook) -> None:
    with pytest.raises(
        RuleNotInForce, match=r"subsidy-rates-2018\.1 ended 2018-12-31; the next, subsidy-rates-2021\.1"
    ):
        rulebook.in_force(SubsidyRates, date(2019, 1, 1))
    with pytest.raises(RuleNotInForce, match=r"subsidy-rates-2027\.0-unconfirmed ended 2027-12-31; none later"):
        rulebook.in_force(SubsidyRates, date(2028, 1, 1))


def test_adding_a_rate_year_is_a_data_change(rules_dir: Path) -> None:
    (rules_dir / "subsidy_rates" / "2028.toml").write_text(
        'rule_set_version = "subsidy-rates-2028.1"\n'
        "valid_from = 2028-01-01\n"
        "valid_to = 2028-12-31\n"
        'sources = ["Vejledning om satser 2028"]\n'
        'legal_reference = { act = "lov om en aktiv beskæftigelsesindsats", paragraph = "kapitel 12" }\n'
        "[hourly_rates]\n"
        "private = 88.50\n"
        "public = 128.52\n"
    )

    rates = Rulebook.load(rules_dir).in_force(SubsidyRates, date(2028, 3, 1))

    assert rates.hourly_rate("public") == Decimal("128.52")
    assert rates.legal_reference is not None and rates.legal_reference.paragraph == "kapitel 12"


def test_reads_rates_exactly_not_as_binary_floats(rulebook: Rulebook) -> None:
    rate = rulebook.in_force(SubsidyRates, date(2018, 5, 1)).hourly_rate("private")
    assert isinstance(rate, Decimal) and rate == Decimal("78.12")


def test_marks_unconfirmed_data_in_the_files(rulebook: Rulebook) -> None:
    assert rulebook.in_force(SubsidyRates, date(2023, 1, 1)).unconfirmed
    internship = rulebook.in_force(InternshipRule, date(2023, 1, 1))
    assert internship.max_weeks["sygedagpenge"] == 13
    assert any("sygedagpenge" in note for note in internship.unconfirmed)
    assert rulebook.in_force(TargetGroups, date(2027, 1, 1)).unconfirmed


def test_target_groups_are_the_old_ones_until_the_end_of_2026(rulebook: Rulebook) -> None:
    assert rulebook.target_group("dagpenge", date(2026, 12, 31)) == "dagpenge"
    assert rulebook.target_group("sygedagpenge", date(2026, 12, 31)) == "sygedagpenge"


def test_target_groups_are_cut_to_five_from_2027(rulebook: Rulebook) -> None:
    groups = rulebook.in_force(TargetGroups, date(2027, 1, 1))

    assert len(groups.groups) == 5
    assert rulebook.target_group("dagpenge", date(2027, 1, 1)) == "insured_unemployed"
    assert rulebook.target_group("jobafklaringsydelse", date(2027, 1, 1)) == "sick_listed"
    assert rulebook.target_group("job_ready", date(2027, 1, 1)) == "job_ready"


def test_every_old_target_group_has_a_2027_group(rulebook: Rulebook) -> None:
    old = rulebook.in_force(TargetGroups, date(2026, 12, 31))
    names = {*old.groups, *old.replaces}  # and the spellings it replaced, which older records may hold
    assert names == set(rulebook.in_force(TargetGroups, date(2027, 1, 1)).replaces)


def test_a_table_from_before_2027_keeps_its_own_group_names(rulebook: Rulebook) -> None:
    internship = rulebook.in_force(InternshipRule, date(2027, 2, 1))
    assert rulebook.group_key(internship, "dagpenge") == "dagpenge"


def test_a_table_from_2027_is_looked_up_under_the_new_group_names(rules_dir: Path) -> None:
    _write(
        rules_dir / "internship" / "2027-01-01.toml",
        """
        rule_set_version = "internship-2027.1"
        valid_from = 2027-01-01
        sources = ["test"]
        legal_reference = { act = "test act", paragraph = "§ 1" }
        max_hours_per_week = 37
        [max_weeks]
        insured_unemployed = 6
        job_ready = 6
        activity_ready = 13
        sick_listed = 13
        reduced_working_capacity = 13
        [extension]
        max_weeks = 8
        new_graduate_target_groups = ["insured_unemployed"]
        from_age = 50
        min_months_unemployed = 12
        """,
    )
    rulebook = Rulebook.load(rules_dir)
    internship = rulebook.in_force(InternshipRule, date(2027, 1, 1))

    assert internship.max_weeks[rulebook.group_key(internship, "dagpenge")] == 6


def test_rejects_a_table_naming_an_unknown_target_group(rules_dir: Path) -> None:
    path = rules_dir / "internship" / "2018-01-01.toml"
    path.write_text(path.read_text().replace("dagpenge = 4", "dagpnge = 4"))

    with pytest.raises(RuleDataError, match=r"internship-2018\.1 names target groups not in target-groups-2018\.1"):
        Rulebook.load(rules_dir)


def test_rejects_a_file_without_sources_naming_the_file(rules_dir: Path) -> None:
    path = rules_dir / "ratio" / "2018-01-01.toml"
    path.write_text(path.read_text().replace("sources =", "# sources ="))

    with pytest.raises(RuleDataError, match=r"(?s)ratio/2018-01-01\.toml.*sources.*Field required"):
        Rulebook.load(rules_dir)


def test_rejects_two_versions_starting_on_the_same_day(rules_dir: Path) -> None:
    original = (rules_dir / "ratio" / "2018-01-01.toml").read_text()
    (rules_dir / "ratio" / "copy.toml").write_text(original.replace("ratio-2018.1", "ratio-2018.2"))

    with pytest.raises(RuleDataError, match=r"more than one version with valid_from 2018-01-01"):
        Rulebook.load(rules_dir)


def test_rejects_a_rate_with_fractions_of_an_ore(rules_dir: Path) -> None:
    path = rules_dir / "subsidy_rates" / "2021.toml"
    path.write_text(path.read_text().replace("82.90", "82.905"))

    with pytest.raises(RuleDataError, match=r"2021\.toml"):
        Rulebook.load(rules_dir)


def test_rejects_a_folder_that_is_not_a_rule(rules_dir: Path) -> None:
    (rules_dir / "bonus").mkdir()
    (rules_dir / "bonus" / "2020.toml").write_text("x = 1\n")

    with pytest.raises(RuleDataError, match=r"unknown rule 'bonus'"):
        Rulebook.load(rules_dir)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2026, 8, 31), 6, date(2027, 3, 1)),  # 28 February 2027 would be early: 31 February is missing
        (date(2024, 8, 29), 6, date(2025, 3, 1)),
        (date(2023, 8, 29), 6, date(2024, 2, 29)),  # leap year
        (date(2026, 5, 31), -3, date(2026, 3, 1)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
    ],
)
def test_counts_calendar_months_from_date_to_date(start: date, months: int, expected: date) -> None:
    assert months_later(start, months) == expected


def test_age_counts_whole_years_and_leap_day_birthdays_turn_on_1_march() -> None:
    assert age_on(date(1976, 6, 1), date(2026, 5, 31)) == 49
    assert age_on(date(1976, 6, 1), date(2026, 6, 1)) == 50
    assert age_on(date(1976, 2, 29), date(2026, 2, 28)) == 49
    assert age_on(date(1976, 2, 29), date(2026, 3, 1)) == 50


def _write(path: Path, text: str) -> None:
    path.write_text("\n".join(line.strip() for line in text.strip().splitlines()) + "\n")


@pytest.mark.parametrize("year", [2018, 2021, 2023, 2024, 2025, 2026, 2027])
def test_every_rate_year_names_the_act_and_paragraph_it_comes_from(rulebook: Rulebook, year: int) -> None:
    reference = rulebook.in_force(SubsidyRates, date(year, 6, 1)).legal_reference

    assert reference is not None and "aktiv beskæftigelsesindsats" in reference.act and reference.paragraph


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_a_rate_year_carried_forward_says_so_in_its_version_and_notes(rulebook: Rulebook, year: int) -> None:
    rates = rulebook.in_force(SubsidyRates, date(year, 6, 1))

    assert rates.rule_set_version == f"subsidy-rates-{year}.0-unconfirmed"
    assert any(note.startswith("hourly_rates: 2023 values carried forward") for note in rates.unconfirmed)
    assert rates.hourly_rates == rulebook.in_force(SubsidyRates, date(2023, 6, 1)).hourly_rates
