"""Open what benefits sealed for the back-office, as the back-office does: the CPR number of each citizen payee."""

from collections.abc import Iterable
from uuid import UUID

from pydantic import SecretStr

from contracts.benefits import PayeeKeyIssued, PaymentInstructionIssuedV2
from contracts.envelope import Event
from services.benefits.payees import decoded, opened_cpr, payee_key_sealer


def payee_cprs(events: Iterable[Event], keks: SecretStr) -> dict[UUID, str | None]:
    """Instruction id → the CPR number it pays (None for an employer), opened with the keys among `events`."""
    events = list(events)
    sealer = payee_key_sealer(keks, setting="test")
    keys = {e.citizen_ref: decoded(sealer.open(e.wrapped_key)) for e in events if isinstance(e, PayeeKeyIssued)}
    return {
        e.instruction_id: opened_cpr(keys[e.payee_ref], e.payee_ref, e.payee_cpr_sealed)
        if e.payee_ref and e.payee_cpr_sealed
        else None
        for e in events
        if isinstance(e, PaymentInstructionIssuedV2)
    }
