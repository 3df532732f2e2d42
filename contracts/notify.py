"""Events of the notify service: that a person was told, or could not be. Never the message body.

Notifications travel on `notify.notifications.v1`, keyed by `dedup_key`, so the attempts at one notification stay
in order. Webhook deliveries that exhausted their attempts go to `notify.webhook-dead-letters.v1`, keyed by
subscription, each carrying the event it could not deliver.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from contracts.common import PersonalData, personal
from contracts.envelope import Event

TOPIC = "notify.notifications.v1"
WEBHOOK_DEAD_LETTERS = "notify.webhook-dead-letters.v1"


class RecipientRole(StrEnum):
    """The role of the person told; who they are stays with notify."""

    EMPLOYER = "employer"
    CITIZEN = "citizen"
    REPRESENTATIVE = "representative"
    CASEWORKER = "caseworker"
    INTEGRATOR = "integrator"


class Channel(StrEnum):
    """How the person was told."""

    EMAIL = "email"
    DIGITAL_POST = "digital_post"
    PLAN = "plan"
    WEBHOOK = "webhook"


class NotificationEvent(Event):
    """An event about one notification; its dedup key is the record key."""

    topic: ClassVar[str] = TOPIC
    key_field: ClassVar[str] = "dedup_key"

    notification_id: UUID = Field(
        description="Identifies this attempt.", examples=["4d6f8a0c-2e4a-4c6e-8a0c-2e4a6c8e0a2c"]
    )
    dedup_key: str = Field(
        min_length=1,
        max_length=200,
        description="The same for every attempt at one notification; a person is told at most once per key.",
        examples=["application-approved:3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90:employer"],
    )
    application_id: UUID | None = Field(
        description="The application the notification is about, if any.",
        examples=["3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90"],
    )
    recipient_role: RecipientRole = Field(description="Who was to be told.", examples=["employer"])
    channel: Channel = Field(description="How.", examples=["digital_post"])
    template: str = Field(
        min_length=1, description="Template identifier and version used.", examples=["application-approved.employer.v1"]
    )


class NotificationSent(NotificationEvent):
    """The notification was handed to its channel."""

    type: ClassVar[str] = "dk.jobbro.notify.notification-sent.v1"

    sent_at: datetime = Field(description="When the channel accepted it.", examples=["2026-02-12T10:00:00+01:00"])


class NotificationFailed(NotificationEvent):
    """The notification could not be delivered; a retryable failure may be followed by a sent one."""

    type: ClassVar[str] = "dk.jobbro.notify.notification-failed.v1"

    failed_at: datetime = Field(description="When the attempt failed.", examples=["2026-02-12T10:00:00+01:00"])
    reason: str = Field(
        min_length=1, description="Why, without personal data.", examples=["SMTP 550 mailbox unavailable"]
    )
    attempts: int = Field(ge=1, description="Attempts made so far.", examples=[3])
    retryable: bool = Field(description="True when notify will try again.", examples=[False])


class WebhookDeadLettered(Event):
    """A webhook delivery failed every attempt; its subscription is paused (failing) and probed with it until the
    receiver accepts it again, or someone reactivates the subscription."""

    type: ClassVar[str] = "dk.jobbro.notify.webhook-dead-lettered.v1"
    topic: ClassVar[str] = WEBHOOK_DEAD_LETTERS
    key_field: ClassVar[str] = "subscription_id"

    subscription_id: UUID = Field(
        description="The webhook subscription that could not be reached.",
        examples=["0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"],
    )
    delivery_id: str = Field(
        min_length=1,
        max_length=200,
        description="The delivery's dedup key, sent as the `webhook-id` header of every attempt.",
        examples=["event:5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d:webhook"],
    )
    attempts: int = Field(ge=1, description="Attempts made.", examples=[5])
    reason: str = Field(
        min_length=1, description="The last attempt's failure, without personal data.", examples=["HTTP 503"]
    )
    dead_lettered_at: datetime = Field(
        description="When the last attempt failed.", examples=["2026-02-12T10:00:00+01:00"]
    )
    body: str = Field(
        min_length=1,
        description="The request body every attempt POSTed, byte for byte: the event as CloudEvents JSON"
        " (structured mode), so it can be replayed or compared with the signature the receiver was sent.",
        examples=[
            '{"specversion":"1.0","id":"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9","source":"/jobbro/subsidy",'
            '"type":"dk.jobbro.subsidy.placement-extended.v1","subject":"3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90",'
            '"time":"2026-02-12T09:59:00+01:00","datacontenttype":"application/json","data":{"application_id":'
            '"3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90","citizen_ref":"c-5f2b7e0a9d134c68","previous_end":"2026-05-29",'
            '"new_end":"2026-08-28"}}'
        ],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )


EVENTS: tuple[type[Event], ...] = (NotificationSent, NotificationFailed, WebhookDeadLettered)
