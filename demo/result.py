"""What a demo run did: each application's outcome, the events it caused, the notices, webhooks, plans, payments
and the ledger's totals — what `demo.trail` prints and the end-to-end test checks."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from contracts.benefits import PayeeKind, PaymentInstructionIssuedV2
from demo.trail import Seen
from demo.webhooks import Delivery


@dataclass(frozen=True)
class Outcome:
    """Where one application ended up."""

    key: str
    label: str
    application_id: UUID
    citizen: str
    """Who the citizen is, in words (never the CPR number)."""
    citizen_ref: str
    state: str
    decided_by: str | None
    reasons: tuple[str, ...]
    """The rules that failed or needed judgement, with their reasons."""


@dataclass(frozen=True)
class Notice:
    """One person told about an application: how, with which template, and where the message is now."""

    key: str
    role: str
    channel: str
    template: str
    where: str


@dataclass
class DemoResult:
    """What happened: the applications, their events, notices, webhooks, plans, payments and totals."""

    applications: list[Outcome]
    events: list[Seen]
    """Every event about the demo's applications and payments, in the order read; CPR numbers masked."""
    notices: list[Notice]
    mail: Path
    digital_post: Path
    webhooks: list[Delivery]
    webhooks_refused: int
    webhook_url: str
    webhook_log: Path
    plans: dict[str, list[dict[str, Any]]]
    """Per application key, the plan entries of its citizen (activation's API)."""
    payees: dict[UUID, str]
    """Per payment instruction to a citizen, who the citizen is, in words."""
    payment_run: str
    month: str
    reconciliation: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    cpr_by_payee: dict[str, str] = field(default_factory=dict, repr=False)
    """The demo's citizens' CPR numbers by `citizen_ref`: for a test to search every topic for them; never printed."""

    def outcome(self, key: str) -> Outcome:
        [found] = [outcome for outcome in self.applications if outcome.key == key]
        return found

    @property
    def citizen_payments(self) -> list[Seen]:
        """The payment run's instructions to the demo's citizens, and the back-office's answers to them."""
        paid = {
            seen.event.instruction_id
            for seen in self.events
            if isinstance(seen.event, PaymentInstructionIssuedV2) and seen.event.payee_kind is PayeeKind.CITIZEN
        }
        return [seen for seen in self.events if getattr(seen.event, "instruction_id", None) in paid]

    @property
    def event_counts(self) -> Counter[str]:
        """How many events of each type the demo caused."""
        return Counter(seen.meta.type for seen in self.events)

    def trail_of(self, application_id: UUID) -> list[Seen]:
        """The application's events, with the settlements of payments made for it, by time."""
        instructions = {
            str(seen.event.instruction_id)
            for seen in self.events
            if isinstance(seen.event, PaymentInstructionIssuedV2) and seen.application_id == str(application_id)
        }
        return sorted(
            (
                seen
                for seen in self.events
                if seen.application_id == str(application_id)
                or str(getattr(seen.event, "instruction_id", "")) in instructions
            ),
            key=lambda seen: seen.meta.time,
        )
