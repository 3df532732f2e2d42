"""The caseworker's inbox: which referred applications to show and in which order, from the page's query string.

The filters and the sort are plain query parameters (`?state=referred&scheme=internship&rule=ratio&sort=ends_on`),
so the page works without JavaScript and a filtered inbox can be bookmarked. A value the page does not offer is
ignored rather than refused: the inbox then shows everything, sorted oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.portal.labels import N_, RULES

WAITING_FOR_CASEWORKER = ("referred", "position_referred")
QUESTIONING = ("failed", "needs_judgement", "warning")
"""A rule's outcomes that a caseworker is asked to look at (every outcome but `passed`)."""
SORTS: Mapping[str, str] = {
    "submitted_at": N_("Submitted, oldest first"),
    "-submitted_at": N_("Submitted, newest first"),
    "starts_on": N_("Start, earliest first"),
    "employer_cvr": N_("Employer (CVR)"),
    "position_title": N_("Position"),
}
DEFAULT_SORT = "submitted_at"


@dataclass(frozen=True)
class InboxQuery:
    """What the caseworker asked the inbox for; empty strings mean no filter."""

    state: str = ""
    scheme: str = ""
    rule: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def of(cls, params: Mapping[str, str], schemes: Iterable[str]) -> InboxQuery:
        """The query string's filters and sort, each kept only when it is one the page offers."""
        state = params.get("state", "")
        scheme = params.get("scheme", "")
        sort = params.get("sort", DEFAULT_SORT)
        return cls(
            state=state if state in WAITING_FOR_CASEWORKER else "",
            scheme=scheme if scheme in set(schemes) else "",
            rule=params.get("rule", "")[:100],
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    @property
    def states(self) -> tuple[str, ...]:
        """The states to ask the subsidy service for."""
        return (self.state,) if self.state else WAITING_FOR_CASEWORKER

    @property
    def filtered(self) -> bool:
        return bool(self.state or self.scheme or self.rule)


def questioned(view: Mapping[str, Any]) -> list[str]:
    """The rules a change waiting for the caseworker asks about, or else those the application's latest decision did
    not pass, in their order, each once."""
    change = view.get("pending_change")
    decision = {"results": change["questions"]} if change else view.get("decision") or view.get("position_decision")
    found: list[str] = []
    for result in (decision or {}).get("results", ()):
        if result.get("outcome") in QUESTIONING and result.get("rule") not in found:
            found.append(result["rule"])
    return found


def arrange(items: list[dict[str, Any]], query: InboxQuery) -> list[dict[str, Any]]:
    """The inbox's lines (summaries with their `questioned` rules) that match the query, in its order."""
    kept = [
        item
        for item in items
        if (not query.scheme or item["scheme"] == query.scheme) and (not query.rule or query.rule in item["questioned"])
    ]
    key = query.sort.lstrip("-")
    return sorted(kept, key=lambda item: (str(item[key]), str(item["submitted_at"])), reverse=query.sort[0] == "-")


def rules_in(items: Iterable[dict[str, Any]], chosen: str = "") -> dict[str, str]:
    """Every questioned rule among the lines (and the one chosen), each with its name, for the rule filter."""
    found = {rule for item in items for rule in item["questioned"]} | ({chosen} if chosen else set())
    return {rule: RULES.get(rule, rule) for rule in sorted(found)}
