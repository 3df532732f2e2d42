"""CloudEvents 1.0 over the Kafka protocol binding, binary content mode.

The record value is the event data as JSON, the attributes travel as `ce_*` headers and the record key is
the aggregate id, so all events of one application (or citizen) land on one partition, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, ValidationError

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
CONTENT_TYPE_HEADER = "content-type"
REQUIRED_ATTRIBUTES = ("id", "source", "type", "specversion")
# Extension attribute names must be lower-case alphanumerics (CloudEvents 1.0, "Attribute Naming Convention").
CORRELATION_ID = "correlationid"
CAUSATION_ID = "causationid"
TRACEPARENT = "traceparent"


class Event(BaseModel):
    """Base of every published event: frozen, and strict when produced (unknown fields are refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    """CloudEvents `type`, versioned and never reused, e.g. `dk.jobbro.subsidy.application-submitted.v1`."""
    topic: ClassVar[str]
    """The one topic this event is published on."""
    key_field: ClassVar[str]
    """Name of the field holding the aggregate id: the record key and the CloudEvents `subject`."""
    tombstone: ClassVar[bool] = False
    """True for an event whose record is a Kafka tombstone (a null value: a compacted topic forgets its key). Its
    only field is the key field, carried by the record key and `ce_subject`."""

    def key(self) -> str:
        return str(getattr(self, self.key_field))


@dataclass(frozen=True, slots=True)
class Metadata:
    """The CloudEvents attributes of one event."""

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    correlation_id: UUID
    causation_id: UUID | None = None
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, ready to produce."""

    topic: str
    key: str
    value: bytes | None
    """None for a tombstone (`Event.tombstone`)."""
    headers: Mapping[str, str]


class EnvelopeError(ValueError):
    """The record is not a valid CloudEvent in binary content mode."""


class UnknownEventType(EnvelopeError):
    """The record's `ce_type` is not in the catalog the consumer reads with."""


class InvalidPayload(EnvelopeError):
    """The record's data does not match the schema of its `ce_type`."""


def encode(
    event: Event,
    *,
    source: str,
    cause: Metadata | None = None,
    event_id: UUID | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> tuple[Metadata, Record]:
    """Wrap an event for Kafka; a `cause` passes its correlation id on and becomes the causation id, and its
    `traceparent` unless the event is written in a span of its own (`traceparent`)."""
    event_id = event_id or uuid4()
    meta = Metadata(
        id=event_id,
        source=source,
        type=event.type,
        time=time or datetime.now(UTC),
        subject=event.key(),
        correlation_id=cause.correlation_id if cause else event_id,
        causation_id=cause.id if cause else None,
        traceparent=traceparent or (cause.traceparent if cause else None),
    )
    return meta, Record(
        topic=event.topic,
        key=meta.subject,
        value=None if event.tombstone else event.model_dump_json().encode(),
        headers=_headers(meta),
    )


def decode(
    headers: Iterable[tuple[str, bytes]], value: bytes | None, catalog: Mapping[str, type[Event]]
) -> tuple[Metadata, Event]:
    """Parse a record as a tolerant reader: unknown data fields are ignored, anything else invalid raises."""
    attrs = _attributes(headers)
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in attrs]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}")
    if attrs["specversion"] != SPECVERSION:
        raise EnvelopeError(f"unsupported ce_specversion {attrs['specversion']!r}")
    model = catalog.get(attrs["type"])
    if model is None:
        raise UnknownEventType(f"unknown ce_type {attrs['type']!r}")
    try:
        meta = Metadata(
            id=UUID(attrs["id"]),
            source=attrs["source"],
            type=attrs["type"],
            time=datetime.fromisoformat(attrs["time"]) if "time" in attrs else datetime.now(UTC),
            subject=attrs.get("subject", ""),
            correlation_id=UUID(attrs.get(CORRELATION_ID) or attrs["id"]),
            causation_id=UUID(attrs[CAUSATION_ID]) if attrs.get(CAUSATION_ID) else None,
            traceparent=attrs.get(TRACEPARENT),
        )
    except ValueError as exc:
        raise EnvelopeError(f"invalid CloudEvents attribute: {exc}") from exc
    try:
        if value is None and model.tombstone:
            event = model.model_validate({model.key_field: meta.subject})
        else:
            event = model.model_validate_json(value or b"", extra="ignore")
    except ValidationError as exc:
        raise InvalidPayload(f"{attrs['type']}: {exc.error_count()} invalid field(s): {_first_error(exc)}") from exc
    return meta, event


def _headers(meta: Metadata) -> dict[str, str]:
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": str(meta.id),
        "ce_source": meta.source,
        "ce_type": meta.type,
        "ce_time": meta.time.isoformat(),
        "ce_subject": meta.subject,
        f"ce_{CORRELATION_ID}": str(meta.correlation_id),
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
    }
    if meta.causation_id:
        headers[f"ce_{CAUSATION_ID}"] = str(meta.causation_id)
    if meta.traceparent:
        headers[f"ce_{TRACEPARENT}"] = meta.traceparent
    return headers


def _attributes(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    attrs = {}
    for name, raw in headers:
        if name.startswith("ce_"):
            try:
                attrs[name[3:]] = raw.decode()
            except UnicodeDecodeError as exc:
                raise EnvelopeError(f"header {name} is not UTF-8") from exc
    return attrs


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
