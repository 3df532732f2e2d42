"""The employer's later steps on an application: withdrawal, early end, extension, hours change, wage report.

Each step is one form posted to one subsidy route. What the employer typed is checked here only for what a person
can fix before sending (a field left empty, an amount that is not one); everything else is the API's to decide, and
its problem details come back as field errors, each in plain Danish, for the DKFDS error summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from services.portal.labels import N_

BEFORE_CONFIRMATION = (
    "position_awaiting_representative",
    "position_assessing",
    "position_referred",
    "position_approved",
    "awaiting_representative",
    "assessing",
    "referred",
    "approved",
)
"""The states an application can be withdrawn from (the subsidy service's transitions to `withdrawn`)."""

END_REASONS: Mapping[str, str] = {
    "ordinary_job": N_("The citizen got an ordinary job"),
    "education": N_("The citizen started an education"),
    "illness": N_("Illness"),
    "citizen_left": N_("The citizen left the placement"),
    "employer_ended": N_("The employer ended the placement"),
    "other": N_("Another reason"),
}
_FILL_IN = N_("Fill in this field.")
_NOT_A_NUMBER = N_("Write a number, for example 30 or 30,5.")
_NOT_AN_AMOUNT = N_("Write an amount in kroner, for example 25.000 or 25.000,50.")


@dataclass(frozen=True)
class Field:
    """One input of a step's form; `kind` picks the input (date, month, hours, kroner, reason, text)."""

    id: str
    label: str
    kind: str
    hint: str = ""
    optional: bool = False
    wage_only: bool = False


@dataclass(frozen=True)
class Step:
    """One later step: its page, the subsidy route it posts to and who may take it when."""

    name: str
    route: str
    title: str
    lead: str
    button: str
    done: str
    fields: tuple[Field, ...]
    states: tuple[str, ...]
    body: Callable[[dict[str, str]], dict[str, Any]]
    signer: bool = True
    """Needs the employer's signing right (`employer-signer`); a withdrawal needs only the employer role."""
    wage_only: bool = False

    def fields_for(self, scheme: str) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if not field.wage_only or _wage(scheme))

    def offered(self, application: Mapping[str, Any], can_sign: bool) -> bool:
        """Whether the application's page offers this step to the user."""
        scheme = application["terms"]["scheme"]
        return (
            application["state"] in self.states
            and (can_sign or not self.signer)
            and (_wage(scheme) or not self.wage_only)
        )


def _wage(scheme: str) -> bool:
    return scheme.startswith("wage_subsidy")


def _or_none(value: str) -> str | None:
    return value or None


def _hours(value: str) -> str:
    return f"{Decimal(value.replace(',', '.')):.2f}"


def _ore(value: str) -> int:
    return int(Decimal(value.replace(".", "").replace(" ", "").replace(",", ".")) * 100)


def _end_body(entered: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "last_day": entered["last_day"],
        "reason": _or_none(entered.get("reason", "")),
        "remark": _or_none(entered.get("remark", "")),
    }
    for name in ("subsidy_last_12_months_ore", "wage_costs_last_12_months_ore"):
        if entered.get(name):
            body[name] = _ore(entered[name])
    return body


STEPS: Mapping[str, Step] = {
    step.name: step
    for step in (
        Step(
            name="withdraw",
            route="withdrawal",
            title=N_("Withdraw the application"),
            lead=N_("A withdrawn application cannot be resumed: apply again if you change your mind."),
            button=N_("Withdraw the application"),
            done=N_("The application is withdrawn."),
            fields=(Field("reason", N_("Why do you withdraw it? (optional)"), "text", optional=True),),
            states=BEFORE_CONFIRMATION,
            body=lambda entered: {"reason": _or_none(entered.get("reason", ""))},
            signer=False,
        ),
        Step(
            name="end",
            route="end",
            title=N_("End the placement"),
            lead=N_("Give the placement's last day. Before the planned end, choose why it ends early."),
            button=N_("End the placement"),
            done=N_("The end of the placement is registered."),
            fields=(
                Field("last_day", N_("Last day"), "date"),
                Field(
                    "reason",
                    N_("Why does it end early?"),
                    "reason",
                    hint=N_("Only when the last day is before the planned end."),
                    optional=True,
                ),
                Field("remark", N_("Remark (optional)"), "text", optional=True),
                Field(
                    "subsidy_last_12_months_ore",
                    N_("Subsidy received in the last 12 months (kr.)"),
                    "kroner",
                    optional=True,
                    wage_only=True,
                ),
                Field(
                    "wage_costs_last_12_months_ore",
                    N_("Wage costs in the last 12 months (kr.)"),
                    "kroner",
                    optional=True,
                    wage_only=True,
                ),
            ),
            states=("confirmed",),
            body=_end_body,
        ),
        Step(
            name="extend",
            route="extension",
            title=N_("Extend the placement"),
            lead=N_("Give the new end date; everything else stays as it is. The rules on the longest period apply."),
            button=N_("Extend the placement"),
            done=N_("The extension is registered."),
            fields=(Field("new_end", N_("New end date"), "date"),),
            states=("confirmed",),
            body=lambda entered: {"new_end": entered["new_end"]},
        ),
        Step(
            name="hours",
            route="hours",
            title=N_("Change the weekly hours"),
            lead=N_("From the day you give, the new hours replace the hours agreed until now."),
            button=N_("Change the hours"),
            done=N_("The new weekly hours are registered."),
            fields=(
                Field("from_date", N_("From (date)"), "date"),
                Field("hours_per_week", N_("Hours a week"), "hours"),
            ),
            states=("confirmed",),
            body=lambda entered: {
                "weekly_hours": [
                    {"from_date": entered["from_date"], "hours_per_week": _hours(entered["hours_per_week"])}
                ]
            },
        ),
        Step(
            name="wages",
            route="wage-reports",
            title=N_("Report a month's wages"),
            lead=N_("Report a month once it is over: the hours paid, the wage costs and any sickness refunds."),
            button=N_("Send the wage report"),
            done=N_("The wage report is registered."),
            fields=(
                Field("month", N_("Month"), "month", hint=N_("For example 2026-11.")),
                Field("paid_hours", N_("Hours paid"), "hours"),
                Field("wage_costs_ore", N_("Wage costs (kr.)"), "kroner"),
                Field("sickness_refunds_ore", N_("Sickness refunds (kr.)"), "kroner", optional=True),
            ),
            states=("confirmed", "ended"),
            body=lambda entered: {
                "month": entered["month"],
                "paid_hours": _hours(entered["paid_hours"]),
                "wage_costs_ore": _ore(entered["wage_costs_ore"]),
                "sickness_refunds_ore": _ore(entered["sickness_refunds_ore"] or "0"),
            },
            wage_only=True,
        ),
    )
}


def check(step: Step, scheme: str, entered: dict[str, str]) -> dict[str, str]:
    """Field id → message id for what the employer can fix before sending: empty fields, numbers that are none."""
    errors = {}
    for field in step.fields_for(scheme):
        value = entered.get(field.id, "")
        if not value:
            if not field.optional:
                errors[field.id] = _FILL_IN
        elif field.kind == "hours" and not _parses(_hours, value):
            errors[field.id] = _NOT_A_NUMBER
        elif field.kind == "kroner" and not _parses(_ore, value):
            errors[field.id] = _NOT_AN_AMOUNT
        elif field.kind == "reason" and value not in END_REASONS:
            errors[field.id] = N_("Choose one of the reasons.")
    return errors


def _parses(parse: Callable[[str], Any], value: str) -> bool:
    try:
        parse(value)
    except (InvalidOperation, ValueError):
        return False
    return re.fullmatch(r"[\d.,\s]+", value) is not None


_NO_PAYMENT_RULES = N_(
    "The subsidy for this month cannot be worked out yet: the rules for it are not in place. Contact the jobcentre."
)
REFUSALS: Mapping[str, tuple[str, str]] = {
    "extension_not_later": ("new_end", N_("The new end date must be after the current end date.")),
    "extension_breaks_rule": ("new_end", N_("The new end date breaks a rule, for example the longest period allowed.")),
    "hours_break_rule": ("hours_per_week", N_("The new hours break a rule, for example an internship's most hours.")),
    "hours_outside_placement": ("from_date", N_("The new hours must start within the placement's period.")),
    "end_outside_placement": ("last_day", N_("The last day must lie within the placement's period.")),
    "end_reason": ("reason", N_("Choose a reason when the placement ends before the planned end, and none if not.")),
    "month_outside_placement": ("month", N_("The month is outside the placement's period.")),
    "month_not_over": ("month", N_("A month can be reported once it is over.")),
    "subsidy_rates_not_in_force": ("month", _NO_PAYMENT_RULES),
    "state_aid_not_in_force": ("month", _NO_PAYMENT_RULES),
    "change_pending": ("", N_("Another change of the placement waits for the caseworker's decision.")),
    "transition_not_allowed": ("", N_("The application can no longer be changed this way: its state has changed.")),
}
"""The subsidy service's refusal codes (problem `code`) as a field and a message in plain language."""


def refused(step: Step, scheme: str, code: str, problem_errors: list[dict[str, Any]]) -> dict[str, str]:
    """The API's problem as field errors: each invalid field by its `location`, a known refusal by its code."""
    ids = [field.id for field in step.fields_for(scheme)]
    errors = {}
    for error in problem_errors:
        parts = [str(part) for part in error.get("location", [])]
        found = next((part for part in reversed(parts) if part in ids), None)
        if found:
            errors[found] = N_("Check this field: the jobcentre cannot accept what it says.")
    if code in REFUSALS:
        field, message = REFUSALS[code]
        errors[field if field in ids else ids[0]] = message
    return errors or {ids[0]: N_("The jobcentre could not accept the change. Check the fields and try again.")}
