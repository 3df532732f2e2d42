"""The caseworker inbox's filters and order, from the query string, over plain lines (no service, no browser)."""

from __future__ import annotations

from typing import Any

from services.portal.inbox import InboxQuery, arrange, questioned, rules_in
from services.portal.labels import SCHEMES


def _line(title: str, scheme: str, submitted: str, starts: str, *questioned_rules: str) -> dict[str, Any]:
    return {
        "id": title,
        "position_title": title,
        "scheme": scheme,
        "employer_cvr": "12345678",
        "submitted_at": submitted,
        "starts_on": starts,
        "questioned": list(questioned_rules),
    }


LINES = [
    _line("Lærling", "internship", "2026-12-03T09:00:00+00:00", "2027-01-10", "ratio"),
    _line("Montør", "wage_subsidy_private", "2026-12-01T09:00:00+00:00", "2027-02-01", "prior_unemployment"),
    _line("Kok", "internship", "2026-12-02T09:00:00+00:00", "2026-12-20", "ratio", "no_plan_overlap"),
]


def _titles(lines: list[dict[str, Any]]) -> list[str]:
    return [line["position_title"] for line in lines]


def test_without_a_query_every_case_is_shown_oldest_first() -> None:
    query = InboxQuery.of({}, SCHEMES)
    assert _titles(arrange(LINES, query)) == ["Montør", "Kok", "Lærling"]
    assert query.states == ("referred", "position_referred") and not query.filtered


def test_the_filters_keep_only_the_scheme_and_the_questioned_rule_asked_for() -> None:
    assert _titles(arrange(LINES, InboxQuery.of({"scheme": "internship"}, SCHEMES))) == ["Kok", "Lærling"]
    assert _titles(arrange(LINES, InboxQuery.of({"rule": "no_plan_overlap"}, SCHEMES))) == ["Kok"]
    query = InboxQuery.of({"scheme": "wage_subsidy_private", "rule": "ratio"}, SCHEMES)
    assert arrange(LINES, query) == [] and query.filtered


def test_the_sort_orders_by_start_or_newest_first() -> None:
    assert _titles(arrange(LINES, InboxQuery.of({"sort": "starts_on"}, SCHEMES))) == ["Kok", "Lærling", "Montør"]
    assert _titles(arrange(LINES, InboxQuery.of({"sort": "-submitted_at"}, SCHEMES))) == ["Lærling", "Kok", "Montør"]


def test_values_the_page_does_not_offer_are_ignored() -> None:
    query = InboxQuery.of({"state": "approved", "scheme": "lottery", "sort": "cpr"}, SCHEMES)
    assert query == InboxQuery()
    assert InboxQuery.of({"state": "position_referred"}, SCHEMES).states == ("position_referred",)


def test_the_questioned_rules_are_those_the_latest_decision_did_not_pass() -> None:
    results = [
        {"rule": "ratio", "outcome": "warning"},
        {"rule": "max_duration", "outcome": "passed"},
        {"rule": "no_plan_overlap", "outcome": "needs_judgement"},
        {"rule": "ratio", "outcome": "failed"},
    ]
    assert questioned({"decision": {"results": results}, "position_decision": None}) == ["ratio", "no_plan_overlap"]
    assert questioned({"decision": None, "position_decision": {"results": results[2:3]}}) == ["no_plan_overlap"]
    assert questioned({"decision": None, "position_decision": None}) == []


def test_a_placement_whose_change_waits_is_questioned_on_the_changes_rules_not_its_decisions() -> None:
    view = {
        "decision": {"results": [{"rule": "max_duration", "outcome": "failed"}]},
        "pending_change": {"questions": [{"rule": "ratio", "outcome": "needs_judgement"}]},
    }

    assert questioned(view) == ["ratio"]


def test_the_rule_filter_offers_the_rules_questioned_and_the_one_chosen() -> None:
    offered = rules_in(LINES, "state_aid_cap")
    assert list(offered) == ["no_plan_overlap", "prior_unemployment", "ratio", "state_aid_cap"]
    assert offered["ratio"] == "Ratio between ordinary employees and supported persons"
