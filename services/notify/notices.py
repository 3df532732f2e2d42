"""Who is told what: per event type, the notices it gives, as pure functions of the event and its audience.

E-mail is not a secure channel, so mails say what happened and link to the portal; no rule results, benefit
details or caseworker remarks. Digital Post is, so a citizen's letter about their benefit carries the change, and a
company's letter about its rejected position the reasons (templates see the recipient's `channel`).
Integrators get, by webhook, every event on the topics read here except those carrying a CPR number or the
representative's signed link.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any
from uuid import UUID

from contracts import activation, benefits, subsidy
from contracts.benefits import BenefitAdjusted, PayeeKind, PaymentInstructionIssued, PaymentInstructionIssuedV2
from contracts.catalog import CPR_ALLOWED, PERSONAL_DATA, TOPICS
from contracts.common import PersonalData
from contracts.envelope import Event
from contracts.subsidy import (
    ApplicationApproved,
    ApplicationReferred,
    ApplicationRejected,
    ApplicationWithdrawn,
    PlacementChangeRejected,
    PlacementEnded,
    PlacementExtended,
    PlacementHoursChanged,
    PositionDecided,
    PositionVerdict,
    ReferredChange,
    RepresentativeApprovalRequested,
    RepresentativeDeclined,
)
from services.notify.domain import (
    DEFAULT_LANGUAGE,
    Audience,
    Channel,
    Notice,
    Recipient,
    Role,
    UnknownApplication,
    citizen,
    company,
)

_READ = (subsidy.TOPIC, benefits.ADJUSTMENTS, benefits.PAYMENT_INSTRUCTIONS, activation.TOPIC)
CONSUMED = tuple(topic for topic in TOPICS if topic.name in _READ)
"""The topics notify reads: to tell people, and to forward events to webhooks."""
FORWARDED = frozenset(
    type_
    for topic in CONSUMED
    for type_ in topic.event_types
    if type_ not in CPR_ALLOWED
    and type_ != RepresentativeApprovalRequested.type
    and PersonalData.SEALED not in PERSONAL_DATA[type_].values()
)
"""The event types a webhook may subscribe to: none with a CPR number, sealed for one reader or in clear."""

Rule = Callable[[Any, Audience | None, Recipient], list[Notice]]
"""(event, its application's audience if known, the caseworkers' mailbox) → the notices to give."""


def _notice(occasion: str, fact_id: object, to: Recipient, event: Event, audience: Audience | None) -> Notice:
    application_id: UUID | None = getattr(event, "application_id", None)
    facts = {
        "event": event.model_dump(),
        "application": asdict(audience) if audience else None,
        "channel": to.channel.value,
    }
    return Notice(occasion, str(fact_id), to, application_id, facts)


def _known(audience: Audience | None, event: Event) -> Audience:
    if audience is None:
        raise UnknownApplication(f"{event.type} for an application notify has no submission of")
    return audience


def _approval_requested(
    event: RepresentativeApprovalRequested, audience: Audience | None, _: Recipient
) -> list[Notice]:
    to = Recipient(Role.REPRESENTATIVE, Channel.EMAIL, event.representative_email, event.representative_language)
    return [_notice("approval-requested", event.request_id, to, event, _known(audience, event))]


def _representative_declined(event: RepresentativeDeclined, audience: Audience | None, _: Recipient) -> list[Notice]:
    known = _known(audience, event)
    return [_notice("representative-declined", event.application_id, known.employer(), event, known)]


def _change_fact(application_id: UUID, change: ReferredChange) -> str:
    """A change of a placement as a fact of its own (the whole change, as for new hours)."""
    return f"{application_id}:{hashlib.sha256(change.model_dump_json().encode()).hexdigest()[:16]}"


def _referred(event: ApplicationReferred, audience: Audience | None, caseworker: Recipient) -> list[Notice]:
    """The application referred, or a change of its placement: each change is a fact of its own, told even when the
    application itself was referred before."""
    known = _known(audience, event)
    fact_id = event.application_id if event.change is None else _change_fact(event.application_id, event.change)
    return [
        _notice("application-referred", fact_id, known.employer(), event, known),
        _notice("application-referred", fact_id, caseworker, event, known),
    ]


def _change_rejected(event: PlacementChangeRejected, audience: Audience | None, _: Recipient) -> list[Notice]:
    """The employer who asked for the change is told; for the citizen nothing changes."""
    known = _known(audience, event)
    fact_id = f"{_change_fact(event.application_id, event.change)}:rejected"
    return [_notice("change-rejected", fact_id, known.employer(), event, known)]


def _approved(event: ApplicationApproved, audience: Audience | None, _: Recipient) -> list[Notice]:
    """The decision and the request for final approval are one message to the employer; the citizen is told too."""
    known = _known(audience, event)
    return [
        _notice("application-approved", event.application_id, known.employer(), event, known),
        _notice("application-approved", event.application_id, known.citizen(), event, known),
    ]


def _rejected(event: ApplicationRejected, audience: Audience | None, _: Recipient) -> list[Notice]:
    known = _known(audience, event)
    return [_notice("application-rejected", event.application_id, known.employer(), event, known)]


def _position_decided(event: PositionDecided, audience: Audience | None, caseworker: Recipient) -> list[Notice]:
    """The employer is told the verdict; a referral reuses the application's referral notices, to the caseworker too.

    The fact is the position's (`<id>:position`), so the referral of the application once the citizen is named, under
    the same id, is still told.
    """
    known = _known(audience, event)
    fact_id = f"{event.application_id}:position"
    if event.verdict is PositionVerdict.REFERRED:
        return [
            _notice("application-referred", fact_id, known.employer(), event, known),
            _notice("application-referred", fact_id, caseworker, event, known),
        ]
    return [_notice(f"position-{event.verdict.value}", fact_id, known.employer(), event, known)]


def _extended(event: PlacementExtended, audience: Audience | None, _: Recipient) -> list[Notice]:
    known = _known(audience, event)
    fact_id = f"{event.application_id}:{event.new_end}"
    return [_notice("placement-extended", fact_id, known.citizen(), event, known)]


def _hours_changed(event: PlacementHoursChanged, audience: Audience | None, _: Recipient) -> list[Notice]:
    """A schedule may be corrected for the same day, so the fact is the whole change, not its date."""
    known = _known(audience, event)
    fact_id = hashlib.sha256(event.model_dump_json().encode()).hexdigest()[:16]
    return [_notice("placement-hours-changed", fact_id, known.citizen(), event, known)]


def _ended(event: PlacementEnded, audience: Audience | None, _: Recipient) -> list[Notice]:
    known = _known(audience, event)
    return [_notice("placement-ended", event.application_id, known.citizen(), event, known)]


def _withdrawn(event: ApplicationWithdrawn, audience: Audience | None, _: Recipient) -> list[Notice]:
    known = _known(audience, event)
    return [_notice("application-withdrawn", event.application_id, known.citizen(), event, known)]


def _payment_issued(
    event: PaymentInstructionIssued | PaymentInstructionIssuedV2, audience: Audience | None, _: Recipient
) -> list[Notice]:
    """Employers are told their subsidy is on its way; payments to citizens are not notify's to announce."""
    if event.payee_kind is not PayeeKind.EMPLOYER or event.payee_cvr is None:
        return []
    to = audience.employer() if audience else company(event.payee_cvr)
    return [_notice("payment-issued", event.instruction_id, to, event, None)]


def _benefit_adjusted(event: BenefitAdjusted, audience: Audience | None, _: Recipient) -> list[Notice]:
    to = citizen(event.citizen_ref, (audience and audience.citizen_language) or DEFAULT_LANGUAGE)
    return [_notice("benefit-adjusted", event.adjustment_id, to, event, None)]


RULES: Mapping[type[Event], Rule] = {
    RepresentativeApprovalRequested: _approval_requested,
    RepresentativeDeclined: _representative_declined,
    ApplicationReferred: _referred,
    PlacementChangeRejected: _change_rejected,
    ApplicationApproved: _approved,
    ApplicationRejected: _rejected,
    PositionDecided: _position_decided,
    PlacementExtended: _extended,
    PlacementHoursChanged: _hours_changed,
    PlacementEnded: _ended,
    ApplicationWithdrawn: _withdrawn,
    PaymentInstructionIssued: _payment_issued,
    PaymentInstructionIssuedV2: _payment_issued,
    BenefitAdjusted: _benefit_adjusted,
}
