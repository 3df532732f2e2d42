"""The AsyncAPI 3.0 document of the catalog: each topic a channel, each event a message with key and headers.

Written here rather than by FastStream, whose AsyncAPI 0.7 output has neither message headers nor Kafka keys.
Each payload is the event's published JSON Schema with its `$defs` moved to `components/schemas`, where
AsyncAPI's schema format can reach them.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from contracts import envelope
from contracts.catalog import PERSONAL_DATA, Topic
from contracts.envelope import Event
from contracts.examples import example
from contracts.schema import event_schema

VERSION = "1.1.0"
KAFKA_BINDING = "0.5.0"
HEADERS = "CloudEventsHeaders"
SECURITY = "scramSha512"
_CE = "ce_"

SERVERS: dict[str, Any] = {
    "kubernetes": {
        "host": "kafka-0.kafka.jobbro.svc:9092",
        "protocol": "kafka-secure",
        "protocolVersion": "4.1",
        "title": "The broker of deploy/k8s",
        "description": "SASL_SSL: TLS with the CA of the Secret `jobbro-kafka-tls`, then SCRAM-SHA-512 as a principal"
        " of the catalog's ACLs (`python -m contracts.provision`).",
        "security": [{"$ref": f"#/components/securitySchemes/{SECURITY}"}],
    },
    "local": {
        "host": "127.0.0.1:19092",
        "protocol": "kafka-secure",
        "protocolVersion": "4.1",
        "title": "The development broker of deploy/local/infra",
        "description": "SASL_SSL as deployed: `deploy/local/infra env` prints the development credentials and the CA"
        " (`.local/kafka/tls/ca.pem`).",
        "security": [{"$ref": f"#/components/securitySchemes/{SECURITY}"}],
    },
}
SECURITY_SCHEMES: dict[str, Any] = {
    SECURITY: {
        "type": "scramSha512",
        "description": "SASL_SSL: SCRAM-SHA-512 over TLS, each client its own principal. A topic's owner alone"
        " writes it; its consumers read it and write its `.dlq`; an integrator reads only the public topics, in"
        " consumer groups named `<principal>.…`.",
    }
}

_UUID = {"type": "string", "format": "uuid"}
CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in the Kafka protocol binding, binary content mode: each attribute is a"
    " header named `ce_<attribute>` with a UTF-8 value, and the record value is the event data as JSON."
    " Readers ignore headers they do not know. The correlation is `ce_correlationid` alone: records produced before"
    " catalog 1.1.0 also carry a `correlation_id` header, a random id of the Kafka client's, which nothing reads.",
    "required": [
        f"{_CE}specversion",
        f"{_CE}id",
        f"{_CE}source",
        f"{_CE}type",
        f"{_CE}time",
        f"{_CE}subject",
        f"{_CE}{envelope.CORRELATION_ID}",
        envelope.CONTENT_TYPE_HEADER,
    ],
    "properties": {
        f"{_CE}specversion": {"type": "string", "const": envelope.SPECVERSION},
        f"{_CE}id": {**_UUID, "description": "Unique per event; a redelivered event keeps its id."},
        f"{_CE}source": {
            "type": "string",
            "format": "uri-reference",
            "minLength": 1,
            "description": "The producing service, e.g. `/jobbro/subsidy`.",
        },
        f"{_CE}type": {"type": "string", "minLength": 1, "description": "The event type; selects the payload schema."},
        f"{_CE}time": {"type": "string", "format": "date-time", "description": "When the event happened (RFC 3339)."},
        f"{_CE}subject": {
            "type": "string",
            "minLength": 1,
            "description": "The aggregate id; equal to the record key.",
        },
        f"{_CE}{envelope.CORRELATION_ID}": {
            **_UUID,
            "description": "The id of the first event of this chain (the event itself when it starts one): one"
            " correlation for everything a submission sets off, bound as `correlation_id` in every log line.",
        },
        f"{_CE}{envelope.CAUSATION_ID}": {**_UUID, "description": "The id of the event that caused this one, if any."},
        f"{_CE}{envelope.TRACEPARENT}": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context of the cause, if traced.",
        },
        envelope.CONTENT_TYPE_HEADER: {"type": "string", "const": envelope.CONTENT_TYPE},
    },
}


def document(topics: Iterable[Topic]) -> dict[str, Any]:
    """The AsyncAPI document for these topics, with the brokers they are on and how clients authenticate there."""
    topics = tuple(topics)
    schemas: dict[str, Any] = {HEADERS: CLOUDEVENTS_HEADERS}
    messages: dict[str, Any] = {}
    for topic in topics:
        for model in topic.events:
            _add(schemas, model.__name__, _lift(event_schema(model), schemas))
            messages[model.__name__] = _message(model, topic)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Jobbro events",
            "version": VERSION,
            "description": "The published event catalog of Jobbro. Topic and event-type names carry their major"
            " version; within a version a change never breaks a reader: fields are only added, as optional ones,"
            " and enums only gain values. Readers must ignore unknown fields and headers; a new enum value is"
            " announced in the catalog before any producer sends it, so readers can upgrade first."
            " Every topic `X` has a dead-letter topic `X.dlq` with the same configuration.",
        },
        "servers": SERVERS,
        "defaultContentType": envelope.CONTENT_TYPE,
        "channels": {topic.name: _channel(topic) for topic in topics},
        "operations": _operations(topics),
        "components": {"schemas": schemas, "messages": messages, "securitySchemes": SECURITY_SCHEMES},
    }


def _channel(topic: Topic) -> dict[str, Any]:
    return {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description} Produced only by {topic.owner}. Key: {topic.key}."
        f" Dead letters: `{topic.dlq}`.",
        "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"} for model in topic.events},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "partitions": topic.partitions,
                "topicConfiguration": _topic_configuration(topic.config),
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-owner": topic.owner,
        "x-consumers": list(topic.consumers),
        "x-dead-letter-topic": topic.dlq,
    }


def _topic_configuration(config: Mapping[str, str]) -> dict[str, Any]:
    """What the Kafka binding can say of a topic's configuration: its cleanup policy and periods."""
    found: dict[str, Any] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    found |= {name: int(config[name]) for name in ("retention.ms", "delete.retention.ms") if name in config}
    return found


def _operations(topics: tuple[Topic, ...]) -> dict[str, Any]:
    operations = {}
    for topic in topics:
        channel = {"$ref": f"#/channels/{_pointer(topic.name)}"}
        refs = [{"$ref": f"#/channels/{_pointer(topic.name)}/messages/{m.__name__}"} for m in topic.events]
        operations[f"{topic.owner}.sends.{topic.name}"] = {
            "action": "send",
            "channel": channel,
            "messages": refs,
            "summary": f"{topic.owner} produces {topic.name}.",
        }
        for consumer in topic.consumers:
            operations[f"{consumer}.receives.{topic.name}"] = {
                "action": "receive",
                "channel": channel,
                "messages": refs,
                "summary": f"{consumer} consumes {topic.name}.",
            }
    return operations


def _message(model: type[Event], topic: Topic) -> dict[str, Any]:
    doc = inspect.cleandoc(model.__doc__ or "")
    return {
        "name": model.type,
        "title": model.__name__,
        "summary": doc.split("\n\n")[0].replace("\n", " "),
        "description": doc,
        "contentType": envelope.CONTENT_TYPE,
        "headers": {
            "type": "object",
            "allOf": [{"$ref": f"#/components/schemas/{HEADERS}"}],
            "properties": {f"{_CE}type": {"type": "string", "const": model.type}},
        },
        "payload": (
            {"type": "null", "description": f"A tombstone: the `{model.key_field}` is the record's key."}
            if model.tombstone
            else {"$ref": f"#/components/schemas/{model.__name__}"}
        ),
        "correlationId": {"location": f"$message.header#/{_CE}{envelope.CORRELATION_ID}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The `{model.key_field}` of the payload, as text.",
                    "x-key-field": model.key_field,
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "examples": [_example(model, topic)],
        "x-personal-data": dict(PERSONAL_DATA[model.type]),
    }


def _example(model: type[Event], topic: Topic) -> dict[str, Any]:
    """A complete record: fixed id and time, so the document is reproducible."""
    event = example(model)
    _, record = envelope.encode(
        event,
        source=f"/jobbro/{topic.owner}",
        event_id=uuid5(NAMESPACE_URL, model.type),
        time=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    )
    payload = None if record.value is None else json.loads(record.value)
    return {"name": model.__name__, "headers": dict(record.headers), "payload": payload}


def _add(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if components.setdefault(name, schema) != schema:
        raise ValueError(f"two different schemas are named {name!r}")


def _lift(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$defs` added to `components`, and its references pointing there."""
    for name, definition in schema.get("$defs", {}).items():
        _add(components, name, _rebased(definition))
    return _rebased({k: v for k, v in schema.items() if k not in ("$defs", "$schema")})


def _rebased(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: v.replace("#/$defs/", "#/components/schemas/", 1) if k == "$ref" else _rebased(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebased(v) for v in node]
    return node


def _pointer(name: str) -> str:
    """A name as a JSON Pointer segment."""
    return name.replace("~", "~0").replace("/", "~1")
