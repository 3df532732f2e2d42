"""When a placement may start: not before it is decided, unless a caseworker records a justified exception.

The citizen may start only once employer and citizen are told of the approval (domain-rules.md, 'Lifecycle',
step 5), so a period that begins before the decision is a question for a caseworker, never an automatic approval.
"""

from __future__ import annotations

from datetime import date

from rules import Outcome
from services.subsidy.domain import NOT_RULE_DATA, ChangeRefused, RuleOutcome

RULE = "start_after_decision"


def check_start(starts_on: date, decided_on: date) -> RuleOutcome:
    """A start on or after the day of the decision passes; an earlier one needs a caseworker's exception."""
    if starts_on >= decided_on:
        return RuleOutcome(
            RULE, Outcome.PASSED, f"starts {starts_on}, not before the decision on {decided_on}", NOT_RULE_DATA
        )
    return RuleOutcome(
        RULE,
        Outcome.NEEDS_JUDGEMENT,
        f"starts {starts_on}, before the decision on {decided_on}: a caseworker may approve it only with a "
        "justified exception",
        NOT_RULE_DATA,
    )


def require_start_allowed(starts_on: date, decided_on: date, exception: str | None) -> None:
    """A caseworker approves a start before the day of approval only with a justification recorded."""
    if starts_on < decided_on and not (exception and exception.strip()):
        raise ChangeRefused(
            f"The placement starts {starts_on}, before this decision; approving it needs a justified start exception.",
            "start_before_decision",
        )
