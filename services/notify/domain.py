"""Who is told, by which channel and in which language, and when a failed delivery is tried again.

Plain data and pure functions; the events that lead here are translated in `notices.py`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

DEFAULT_LANGUAGE = "da"
"""Whoever has not chosen a language is written to in Danish."""
DELIVERY_ID_HEADER = "Jobbro-Delivery-Id"
"""The header carrying the dedup key in mails (webhooks send it as `webhook-id`), for receivers to drop repeats by."""


class Role(StrEnum):
    """The role of the person told (the values of the published `RecipientRole`)."""

    EMPLOYER = "employer"
    CITIZEN = "citizen"
    REPRESENTATIVE = "representative"
    CASEWORKER = "caseworker"
    INTEGRATOR = "integrator"


class Channel(StrEnum):
    """How they are told (values of the published `Channel`)."""

    EMAIL = "email"
    DIGITAL_POST = "digital_post"
    WEBHOOK = "webhook"


class SubscriptionStatus(StrEnum):
    """Whether a webhook subscription is delivered to."""

    ACTIVE = "active"
    FAILING = "failing"
    """Paused: a delivery failed every attempt; later ones wait while it is probed, until the receiver accepts it
    again (or an operator reactivates the subscription)."""
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Recipient:
    """One person (or mailbox, or integrator) on one channel.

    `address` is an e-mail address, a Digital Post recipient (citizen reference or CVR number), or a subscription id.
    """

    role: Role
    channel: Channel
    address: str
    language: str | None
    """None for an integrator: a webhook carries the event, not a message."""


def citizen(citizen_ref: str, language: str = DEFAULT_LANGUAGE) -> Recipient:
    """Citizens are written to by Digital Post, addressed by their pseudonymous reference (see `digital_post`)."""
    return Recipient(Role.CITIZEN, Channel.DIGITAL_POST, citizen_ref, language)


def company(cvr: str, language: str = DEFAULT_LANGUAGE) -> Recipient:
    """An employer without a known e-mail address: the company's Digital Post, addressed by CVR number."""
    return Recipient(Role.EMPLOYER, Channel.DIGITAL_POST, cvr, language)


@dataclass(frozen=True)
class Audience:
    """Who to tell about one application, as its submission named them.

    An application for a position names no citizen (`citizen_ref` None) until `ApplicationSubmitted` completes it.
    """

    application_id: UUID
    scheme: str
    position_title: str
    start: date
    end: date
    citizen_ref: str | None
    citizen_language: str | None
    employer_cvr: str
    employer_name: str
    employer_email: str | None
    employer_language: str

    def employer(self) -> Recipient:
        """By e-mail where the employer gave an address, else by the company's Digital Post."""
        if self.employer_email:
            return Recipient(Role.EMPLOYER, Channel.EMAIL, self.employer_email, self.employer_language)
        return company(self.employer_cvr, self.employer_language)

    def citizen(self) -> Recipient:
        """The citizen named; for a position no citizen is named yet, and nobody can be told."""
        if self.citizen_ref is None:
            raise UnknownApplication(f"no citizen is named yet for application {self.application_id}")
        return citizen(self.citizen_ref, self.citizen_language or DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Notice:
    """One message to one recipient about one fact: told at most once per (fact, recipient, channel)."""

    occasion: str
    """What is told, e.g. `application-approved`; with the role it names the template."""
    fact_id: str
    """The fact's own id (an application, request, adjustment), so a repeated event tells nobody twice."""
    recipient: Recipient
    application_id: UUID | None
    facts: Mapping[str, Any]
    """The template's variables."""

    @property
    def dedup_key(self) -> str:
        return f"{self.occasion}:{self.fact_id}:{self.recipient.role}:{self.recipient.channel}"

    @property
    def template(self) -> str:
        return f"{self.occasion}.{self.recipient.role}.v1"

    @property
    def language(self) -> str:
        return self.recipient.language or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Endpoint:
    """Where a webhook delivery goes and how it is signed, as its subscription says at the time of the attempt."""

    subscription_id: UUID
    url: str
    secret: str


@dataclass(frozen=True)
class Delivery:
    """A notice (or, for a webhook, an event) claimed for an attempt at sending it to one recipient."""

    id: int
    dedup_key: str
    recipient: Recipient
    template: str
    subject: str | None
    body: str
    application_id: UUID | None
    attempts: int
    """Attempts made before this one."""
    endpoint: Endpoint | None
    failing_since: datetime | None = None
    """When its first attempt failed; None while none has."""
    probe: bool = False
    """A dead-lettered webhook delivery tried again to see whether its paused subscription's receiver is back."""


def webhook_dedup_key(event_id: UUID, subscription_id: UUID) -> str:
    """One delivery of one event to one subscription; sent along as `webhook-id`."""
    return f"event:{event_id}:{subscription_id}:{Channel.WEBHOOK}"


def dotted(dedup_key: str) -> str:
    """The dedup key with its colons as dots: the form a Message-ID's left part and a file name allow."""
    return dedup_key.replace(":", ".")


@dataclass(frozen=True)
class Subscription:
    """An integrator's webhook: which event types to POST where. The signing secret is never read back.

    `owner` is the subject of the integrator who made it (None for one made before owners were recorded);
    `sensitive_fields` whether that integrator held the grant to receive fields the catalog marks sensitive.
    """

    id: UUID
    url: str
    event_types: tuple[str, ...]
    status: SubscriptionStatus
    owner: str | None = None
    sensitive_fields: bool = False


@dataclass(frozen=True)
class LoggedDelivery:
    """One line of a subscription's delivery log: which event, how it went; never what it said."""

    id: int
    delivery_id: str
    """The `webhook-id` of every attempt."""
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    """When it is tried next (pending or dead and probed); None once sent or failed."""
    sent_at: datetime | None


class EventTypeNotGranted(Exception):
    """An integrator asked for event types its grant does not name."""


def check_granted(event_types: Iterable[str], granted: frozenset[str]) -> None:
    """Refuse event types outside the integrator's grant; the refusal names neither them nor the grant's others."""
    if not set(event_types) <= granted:
        raise EventTypeNotGranted("your grant does not name every event type asked for")


def check_event_types(event_types: Iterable[str], offered: frozenset[str], known: frozenset[str]) -> None:
    """Refuse event types not offered to webhooks (where a URL may point is `targets.TargetGuard`'s to say); the
    refusal names those of the catalog (`known`) and only counts the others, which could be anything sent."""
    refused = set(event_types) - offered
    if refused:
        named, unnamed = sorted(refused & known), len(refused - known)
        parts = [*named, *([f"{unnamed} not in the catalog"] if unnamed else [])]
        raise SubscriptionRefused(f"event types not offered to webhooks: {', '.join(parts)}")


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, for a set time after the first failed attempt, so that a receiver's
    outage of minutes or hours is delivered later; a subscription paused after that is probed at its own pace."""

    base_seconds: float
    """The wait after the first failed attempt; each later one doubles it."""
    max_seconds: float
    """The longest wait between two attempts."""
    give_up_seconds: float
    """How long after the first failed attempt a delivery is still retried."""
    probe_seconds: float
    """How often a paused (failing) subscription is tried again with its dead-lettered delivery."""
    jitter: float = 0.0
    """The part of each wait taken off at random (0 to 1), so receivers coming back are not hit all at once."""
    max_attempts: int | None = None
    """A limit on attempts as well as on time; None: time alone."""

    def next_delay(self, attempts: int, failing_for: float, *, permanent: bool, chance: float) -> float | None:
        """Seconds to wait after `attempts` failed attempts, the first `failing_for` seconds ago; None when the
        delivery has failed for good. `chance` (0 to 1, drawn at random by the caller) picks the jitter."""
        if permanent or failing_for >= self.give_up_seconds:
            return None
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        doubled = self.base_seconds * 2 ** min(attempts - 1, 64)
        return min(self.max_seconds, doubled) * (1 - self.jitter * chance)


class DeliveryFailed(Exception):
    """A channel could not deliver; `reason` holds no personal data, `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class UnknownApplication(LookupError):
    """An application event arrived before (or without) the submission that names whom to tell."""


class UnknownSubscription(LookupError):
    """No webhook subscription has this id."""


class SubscriptionRefused(ValueError):
    """A subscription asks for something notify will not do (an unknown event type, a plain-HTTP URL)."""
