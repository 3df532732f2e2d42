"""The access audit: each service's record of who read or changed a citizen's personal data through its API.

Every read or change is one `…AccessRecorded` event on the service's own audit topic (`<service>.access-audit.v1`,
keyed by `access_id`), written through the outbox in the transaction of the change itself, and for a read before
the answer leaves (`jobbro.audit`). The object is named pseudonymously (an application id, a `citizen_ref`), never
by CPR number. A SIEM reads the topics as an operator's tool, or takes the CEF export of `GET /v1/audit/access`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from contracts.common import PersonalData, personal
from contracts.envelope import Event

TOPICS: dict[str, str] = {
    service: f"{service}.access-audit.v1" for service in ("subsidy", "benefits", "activation", "notify")
}
"""Each service's own audit topic: a topic has one producer."""


class AccessAction(StrEnum):
    """What the caller did with the data."""

    READ = "read"
    CHANGE = "change"


class AccessOutcome(StrEnum):
    """How the access ended; a refused or missing object is recorded as well as a granted one."""

    GRANTED = "granted"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


class AccessRecorded(Event):
    """One read or change of personal data through an API; each service publishes its own subclass."""

    key_field: ClassVar[str] = "access_id"

    access_id: UUID = Field(description="Identifies this access.", examples=["0b6e2f4a-6c8e-4a0c-9e2f-4a6c8e0a2c4e"])
    at: datetime = Field(description="When the access happened (UTC).", examples=["2026-11-02T09:15:00Z"])
    actor: str = Field(
        min_length=1,
        max_length=200,
        description="The identity provider's id of the user or client that called.",
        examples=["9a1c3e5f-7b9d-4f1a-8c3e-5a7c9e1b3d5f"],
        json_schema_extra=personal(PersonalData.PSEUDONYM),
    )
    roles: tuple[str, ...] = Field(description="The caller's Jobbro roles.", examples=[["caseworker"]], max_length=20)
    municipality: str | None = Field(
        description="The caller's municipality (a caseworker's or manager's), else null.", examples=["751"]
    )
    purpose: str = Field(
        min_length=1, max_length=64, description="Why the data is processed.", examples=["case_handling"]
    )
    action: AccessAction = Field(description="A read or a change.", examples=["read"])
    object_kind: str = Field(
        min_length=1, max_length=64, description="What kind of object was accessed.", examples=["application"]
    )
    object_ref: str | None = Field(
        max_length=200,
        description="The object accessed, pseudonymously (an application id, a citizen_ref); null for a list.",
        examples=["3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90"],
    )
    citizen_refs: tuple[Annotated[str, Field(max_length=64)], ...] = Field(
        description="The citizens whose data the answer or change held.",
        examples=[["c-5f2b7e0a9d134c68"]],
        json_schema_extra=personal(PersonalData.PSEUDONYM),
    )
    outcome: AccessOutcome = Field(description="Granted, not found, or refused.", examples=["granted"])
    route: str = Field(
        min_length=1,
        max_length=200,
        description="The API operation: method and path template, never the path itself.",
        examples=["GET /v1/applications/{application_id}"],
    )


class SubsidyAccessRecorded(AccessRecorded):
    """An access to applications and placements through subsidy's API."""

    type: ClassVar[str] = "dk.jobbro.subsidy.access-recorded.v1"
    topic: ClassVar[str] = TOPICS["subsidy"]


class BenefitsAccessRecorded(AccessRecorded):
    """An access to the citizen registry or the ledger through benefits' API."""

    type: ClassVar[str] = "dk.jobbro.benefits.access-recorded.v1"
    topic: ClassVar[str] = TOPICS["benefits"]


class ActivationAccessRecorded(AccessRecorded):
    """An access to citizens' plans and timeliness through activation's API."""

    type: ClassVar[str] = "dk.jobbro.activation.access-recorded.v1"
    topic: ClassVar[str] = TOPICS["activation"]


class NotifyAccessRecorded(AccessRecorded):
    """An access to webhook subscriptions through notify's API."""

    type: ClassVar[str] = "dk.jobbro.notify.access-recorded.v1"
    topic: ClassVar[str] = TOPICS["notify"]


BY_SERVICE: dict[str, type[AccessRecorded]] = {
    "subsidy": SubsidyAccessRecorded,
    "benefits": BenefitsAccessRecorded,
    "activation": ActivationAccessRecorded,
    "notify": NotifyAccessRecorded,
}
EVENTS: tuple[type[Event], ...] = tuple(BY_SERVICE.values())
