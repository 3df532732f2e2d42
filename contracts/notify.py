"""Events of the notify service: that a person was told, or could not be. Never the message body.

All travel on `notify.notifications.v1`, keyed by `dedup_key`, so the attempts at one notification stay in order.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from contracts.envelope import Event

TOPIC = "notify.notifications.v1"


class RecipientRole(StrEnum):
    """The role of the person told; who they are stays with notify."""

    EMPLOYER = "employer"
    CITIZEN = "citizen"
    REPRESENTATIVE = "representative"
    CASEWORKER = "caseworker"


class Channel(StrEnum):
    """How the person was told."""

    EMAIL = "email"
    DIGITAL_POST = "digital_post"
    PLAN = "plan"


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


EVENTS: tuple[type[Event], ...] = (NotificationSent, NotificationFailed)
