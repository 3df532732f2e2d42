"""The published catalog: every topic with its one producer, key, events, configuration and known consumers.

Retention (periods from `jobbro/retention.toml`): topics are event streams, never compacted (compaction would keep
only the last event of each aggregate), but for the one topic of keys (`benefits.payee-keys.v1`): it keeps each
citizen's latest payee key and, once a tombstone follows, none (`KEYS`). No topic keeps data forever: the log is
transport, each service's database is the record, and v1 payment instructions carried CPR numbers in clear (as v1
submissions did, see `CPR_ALLOWED`; v2 seals them under the payee keys). 400 days
outlives the longest placement (12 months) plus its application, so a consumer can be rebuilt from the log for every
live aggregate and a year of payments can be reconciled; notifications have no downstream state to rebuild and keep
30 days; access audits keep five years. A
dead-letter topic `<topic>.dlq`, written by that topic's consumers, keeps its topic's configuration, so a dead
letter outlives its investigation as long as the original would.

CPR numbers: only where the consumer must act on the person (see `CPR_ALLOWED`); everywhere else the citizen
is the pseudonymous `citizen_ref`. Every personal-data field is marked `x-personal-data` in its schema
(`contracts.common.PersonalData` says what each mark means); `PERSONAL_DATA` lists them per event type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from contracts import activation, audit, benefits, notify, payments, subsidy
from contracts.envelope import Event
from contracts.schema import event_schema, personal_fields
from jobbro.retention import policies

DEFAULT_PARTITIONS = 12
"""Partitions of every topic: the most consumers one group can spread over, so what a service may scale out to.
Chosen ahead, since adding partitions to a topic moves keys to other partitions and breaks their order."""
_DAY_MS = 24 * 60 * 60 * 1000


def _retention(days: int) -> Mapping[str, str]:
    return MappingProxyType({"cleanup.policy": "delete", "retention.ms": str(days * _DAY_MS)})


EVENT_STREAM = _retention(policies()["topics"].days)
SHORT_LIVED = _retention(policies()["notifications"].days)
ACCESS_AUDIT = _retention(policies()["access_audit"].days)
"""Periods from `jobbro/retention.toml`, the one place each data class's period and legal basis are set."""
KEYS: Mapping[str, str] = MappingProxyType(
    {
        "cleanup.policy": "compact",
        "segment.ms": str(60 * 60 * 1000),
        "min.compaction.lag.ms": str(60 * 1000),
        "max.compaction.lag.ms": str(_DAY_MS),
        "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": str(_DAY_MS),
    }
)
"""A topic of keys, the latest per key kept while it lives: a segment rolls after an hour (the active one is never
compacted), a record is compacted away a minute after a newer one or a tombstone at the soonest and within a day
at the latest, and a tombstone itself stays a day for lagging readers to see. So an erased citizen's key leaves
the log within two days (docs/privacy.md)."""


@dataclass(frozen=True)
class Topic:
    """One topic of the catalog; only `owner` produces to it (its consumers also write its `.dlq`)."""

    name: str
    owner: str
    key: str
    events: tuple[type[Event], ...]
    consumers: tuple[str, ...]
    config: Mapping[str, str]
    description: str
    partitions: int = DEFAULT_PARTITIONS

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(model.type for model in self.events)


TOPICS: tuple[Topic, ...] = (
    Topic(
        name=subsidy.TOPIC,
        owner="subsidy",
        key="application_id: every event of one application, from submission to its end, in order",
        events=subsidy.EVENTS,
        consumers=("benefits", "activation", "notify"),
        config=EVENT_STREAM,
        description="The life of each subsidy application (for a named citizen, or for a position until its citizen"
        " is named) and of the placement it becomes.",
    ),
    Topic(
        name=benefits.ASSESSMENTS,
        owner="benefits",
        key="citizen_ref: one citizen's assessments, and their erasure, in order",
        events=(benefits.CitizenAssessed, benefits.CitizenErased),
        consumers=("subsidy", "activation", "notify"),
        config=EVENT_STREAM,
        description="Citizen-side eligibility of each application's citizen, and citizens erased from the registry"
        " (each reader destroys what it keeps sealed for them).",
    ),
    Topic(
        name=benefits.ADJUSTMENTS,
        owner="benefits",
        key="citizen_ref: one citizen's benefit changes in order",
        events=(benefits.BenefitAdjusted,),
        consumers=("notify",),
        config=EVENT_STREAM,
        description="How placements change citizens' benefits.",
    ),
    Topic(
        name=benefits.PAYMENT_INSTRUCTIONS,
        owner="benefits",
        key="instruction_id: the same key as the back-office's answers",
        events=(benefits.PaymentInstructionIssued, benefits.PaymentInstructionIssuedV2),
        consumers=("payment-back-office", "notify"),
        config=EVENT_STREAM,
        description="What the payment back-office must pay; a citizen payee's CPR number sealed under their payee"
        " key (v2; v1 carried it in clear) (notify reads employer payees only, to tell them a payment was issued).",
    ),
    Topic(
        name=benefits.PAYEE_KEYS,
        owner="benefits",
        key="citizen_ref: a citizen's payee key, then its tombstone when they are erased",
        events=(benefits.PayeeKeyIssued, benefits.PayeeKeyDestroyed),
        consumers=("payment-back-office",),
        config=KEYS,
        description="Citizens' payee keys for the back-office, wrapped under a key-encryption key it shares with"
        " benefits: they open the CPR numbers of payment instructions. Compacted: an erased citizen's key is"
        " tombstoned, and compaction removes it from the log.",
    ),
    Topic(
        name=payments.TOPIC,
        owner="payment-back-office",
        key="instruction_id: a failure and a later settlement of one instruction in order",
        events=payments.EVENTS,
        consumers=("benefits",),
        config=EVENT_STREAM,
        description="Produced outside Jobbro by the payment back-office: how each instruction ended.",
    ),
    Topic(
        name=activation.TOPIC,
        owner="activation",
        key="citizen_ref: one citizen's plan in order",
        events=activation.EVENTS,
        consumers=("subsidy", "notify"),
        config=EVENT_STREAM,
        description="Citizens' plans (Min Plan) and conflicts of applications with them.",
    ),
    Topic(
        name=notify.TOPIC,
        owner="notify",
        key="dedup_key: the attempts at one notification in order",
        events=(notify.NotificationSent, notify.NotificationFailed),
        consumers=("subsidy",),
        config=SHORT_LIVED,
        description="Who was told what, by which channel; never a message body.",
    ),
    Topic(
        name=notify.WEBHOOK_DEAD_LETTERS,
        owner="notify",
        key="subscription_id: one subscription's undeliverable events in order",
        events=(notify.WebhookDeadLettered,),
        consumers=(),
        config=SHORT_LIVED,
        description="Webhook deliveries that failed every attempt, with the event each carried, for operators.",
    ),
    *(
        Topic(
            name=event.topic,
            owner=service,
            key="access_id: each access once",
            events=(event,),
            consumers=(),
            config=ACCESS_AUDIT,
            description=f"Who read or changed which citizen's personal data through {service}'s API, and why; read"
            " by the SIEM as an operator's tool.",
        )
        for service, event in audit.BY_SERVICE.items()
    ),
)

ALL_EVENTS: tuple[type[Event], ...] = (
    subsidy.EVENTS + benefits.EVENTS + payments.EVENTS + activation.EVENTS + notify.EVENTS + audit.EVENTS
)
EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType({model.type: model for model in ALL_EVENTS})
"""CloudEvents type → model: the catalog a consumer passes to `contracts.envelope.decode`."""

CPR_ALLOWED: Mapping[str, str] = MappingProxyType(
    {
        subsidy.ApplicationSubmitted.type: "deprecated, no longer produced: v2 names the citizen by citizen_ref only;"
        " v1 records stay readable until the topic's retention has removed them (docs/privacy.md)",
        benefits.PaymentInstructionIssued.type: "deprecated, no longer produced: v2 seals the CPR number under the"
        " citizen's payee key, for the back-office alone; v1 records stay readable until the topic's retention has"
        " removed them (docs/privacy.md)",
    }
)
"""The only event types that may carry a CPR number, and why their consumers need it (or why it is still listed)."""

PERSONAL_DATA: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {type_: MappingProxyType(personal_fields(event_schema(model))) for type_, model in EVENT_TYPES.items()}
)
"""Event type → {field path: personal-data kind}, e.g. `{"citizen_cpr": "cpr"}`."""
