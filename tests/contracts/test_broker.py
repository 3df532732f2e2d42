"""Every event type through a real broker: round-trips with the project's envelope, and validates for an integrator.

The integrator's helpers (up to "Jobbro's side") use only aiokafka, jsonschema, json, pathlib and the committed
artefacts, as the payment back-office or an outside integrator would: no project code.
"""

import asyncio
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from jsonschema import Draft202012Validator

from contracts.catalog import ALL_EVENTS, EVENT_TYPES
from contracts.envelope import Event, Metadata, Record, decode, encode
from contracts.examples import example
from contracts.provision import provision
from jobbro.kafka_access import KafkaAccess

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")
ATTRIBUTE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789")


def load_contract(root: Path = CONTRACTS) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The published schemas by CloudEvents type, and the AsyncAPI document."""
    schemas = {p.name.removesuffix(".json"): json.loads(p.read_text()) for p in (root / "schemas").glob("*.json")}
    return schemas, json.loads((root / "asyncapi.json").read_text())


async def end_offsets(kafka: KafkaAccess, topics: set[str]) -> dict[TopicPartition, int]:
    """Where each partition of these topics ends now: records after it are new. Right after the topics are created
    (or the broker restarted) it may describe them without partitions for a moment: it is asked again."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        for _ in range(100):
            described = await admin.describe_topics(list(topics))
            if all(t["partitions"] and not t["error_code"] for t in described):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the broker does not describe every topic with its partitions: {described}")
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def read_new(
    kafka: KafkaAccess, start: dict[TopicPartition, int], keys: set[bytes], timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """The records after `start` whose key is one of `keys`, once each key was seen (or the timeout passed)."""
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(start))
        for partition, offset in start.items():
            consumer.seek(partition, offset)
        found: list[ConsumerRecord] = []
        waited_ms = 0
        while {r.key for r in found} < keys and waited_ms < timeout_s * 1000:
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if r.key in keys]
            waited_ms += 500
        return found
    finally:
        await consumer.stop()


def cloudevents_problems(headers: list[tuple[str, bytes]]) -> list[str]:
    """Where the headers break CloudEvents 1.0 core and its Kafka binding in binary content mode."""
    try:
        decoded = {name: value.decode() for name, value in headers}
    except UnicodeDecodeError:
        return ["a header value is not UTF-8"]
    attrs = {name[3:]: value for name, value in decoded.items() if name.startswith("ce_")}
    problems = [f"ce_{a} missing or empty" for a in REQUIRED_ATTRIBUTES if not attrs.get(a)]
    if attrs.get("specversion") not in (None, "1.0"):
        problems.append(f"ce_specversion is {attrs['specversion']!r}, not '1.0'")
    problems += [f"attribute name {a!r} is not lower-case alphanumeric" for a in attrs if set(a) - ATTRIBUTE_NAME_CHARS]
    problems += [f"attribute name {a!r} is longer than 20 characters" for a in attrs if len(a) > 20]
    if "time" in attrs:
        try:
            if datetime.fromisoformat(attrs["time"]).tzinfo is None:
                problems.append("ce_time has no offset (RFC 3339 requires one)")
        except ValueError:
            problems.append(f"ce_time {attrs['time']!r} is not RFC 3339")
    if decoded.get("content-type") != "application/json":
        problems.append("content-type is not application/json (the record value is the JSON event data)")
    return problems


def record_problems(record: ConsumerRecord, schemas: dict[str, dict[str, Any]], asyncapi: dict[str, Any]) -> list[str]:
    """Everything wrong with one record, judged only by CloudEvents and the published contract."""
    problems = cloudevents_problems(list(record.headers))
    if problems:
        return problems
    headers = {name: value.decode() for name, value in record.headers}
    schema = schemas.get(headers["ce_type"])
    messages = {m["name"]: key for key, m in asyncapi["components"]["messages"].items()}
    if schema is None or headers["ce_type"] not in messages:
        return [f"unknown ce_type {headers['ce_type']!r}"]
    message = messages[headers["ce_type"]]
    header_schema = {"components": asyncapi["components"], "$ref": f"#/components/messages/{message}/headers"}
    problems += [f"header {where}: {message}" for where, message in _errors(header_schema, headers)]
    if asyncapi["components"]["messages"][message]["payload"].get("type") == "null":  # a tombstone
        if record.value is not None:
            problems.append("a tombstone has a value")
        if record.key.decode() != headers.get("ce_subject"):
            problems.append("key and ce_subject differ")
        return problems
    payload = json.loads(record.value)
    problems += [f"payload {where}: {message}" for where, message in _errors(schema, payload)]
    key_field = schema["x-key-field"]
    if not (record.key.decode() == headers.get("ce_subject") == str(payload.get(key_field))):
        problems.append(f"key, ce_subject and payload {key_field} differ")
    return problems


def _errors(schema: dict[str, Any], instance: Any) -> list[tuple[str, str]]:
    """(where, what) for each violation, in a stable order."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [(".".join(map(str, e.absolute_path)) or "(root)", e.message) for e in validator.iter_errors(instance)]
    return sorted(errors)


# -- Jobbro's side: produce with the project's code, then judge with the integrator's helpers above.


@dataclasses.dataclass(frozen=True)
class Broker:
    kafka: KafkaAccess
    prefix: str
    """A topic namespace of this module's own, holding every catalog topic."""


@pytest.fixture(scope="module")
async def broker(kafka: KafkaAccess) -> Broker:
    """The broker, with the catalog's topics provisioned in a namespace of their own."""
    prefix = f"test-{uuid4().hex[:8]}."
    await provision(kafka, prefix=prefix)
    return Broker(kafka, prefix)


def _unique(event: Event) -> Event:
    """The event under a key no other test or run uses."""
    current = getattr(event, event.key_field)
    key = uuid4() if isinstance(current, UUID) else f"{current}-{uuid4().hex[:12]}"
    return event.model_copy(update={event.key_field: key})


async def _produce(kafka: KafkaAccess, records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic, key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def _raw(record: Record, prefix: str) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    headers = [(k, v.encode()) for k, v in record.headers.items()]
    return prefix + record.topic, record.key.encode(), record.value, headers


@dataclasses.dataclass(frozen=True)
class Delivery:
    event: Event
    meta: Metadata
    sent: Record
    received: ConsumerRecord


async def _publish_one_of_each(broker: Broker) -> list[Delivery]:
    """Produce one example of every event type under fresh keys, and read them back."""
    events = [_unique(example(model)) for model in ALL_EVENTS]
    sent = {event: encode(event, source="/jobbro/tests") for event in events}
    start = await end_offsets(broker.kafka, {broker.prefix + model.topic for model in ALL_EVENTS})
    await _produce(broker.kafka, [_raw(record, broker.prefix) for _, record in sent.values()])
    keys = {r.key.encode() for _, r in sent.values()}
    received = {r.key: r for r in await read_new(broker.kafka, start, keys)}
    return [
        Delivery(e, meta, record, received[record.key.encode()])
        for e, (meta, record) in sent.items()
        if record.key.encode() in received
    ]


async def test_every_event_type_round_trips_through_the_broker(broker: Broker) -> None:
    deliveries = await _publish_one_of_each(broker)
    assert len(deliveries) == len(ALL_EVENTS)
    for d in deliveries:
        assert (d.received.topic, d.received.key.decode()) == (broker.prefix + d.sent.topic, d.sent.key)
        assert {k: v.decode() for k, v in d.received.headers} == dict(d.sent.headers)
        assert decode(list(d.received.headers), d.received.value, EVENT_TYPES) == (d.meta, d.event)


async def test_an_integrator_validates_every_event_type_with_the_published_contract_alone(broker: Broker) -> None:
    deliveries = await _publish_one_of_each(broker)
    schemas, asyncapi = load_contract()
    assert sorted(d.meta.type for d in deliveries) == sorted(schemas)
    assert {d.meta.type: record_problems(d.received, schemas, asyncapi) for d in deliveries} == {
        type_: [] for type_ in schemas
    }


async def test_the_integrator_check_catches_a_record_that_breaks_the_contract(broker: Broker) -> None:
    kafka = broker.kafka
    _, record = encode(_unique(example(ALL_EVENTS[0])), source="/jobbro/tests")
    topic, key, value, headers = _raw(record, broker.prefix)
    payload = json.loads(value)
    del payload["citizen_cpr"]
    payload["period"]["start"] = "2nd of March"
    headers = [(k, b"0.3" if k == "ce_specversion" else v) for k, v in headers]
    start = await end_offsets(kafka, {topic})
    await _produce(kafka, [(topic, key, json.dumps(payload).encode(), headers)])
    [received] = await read_new(kafka, start, {key})
    schemas, asyncapi = load_contract()

    assert record_problems(received, schemas, asyncapi) == ["ce_specversion is '0.3', not '1.0'"]
    fixed = [(k, b"1.0" if k == "ce_specversion" else v) for k, v in received.headers]
    assert record_problems(dataclasses.replace(received, headers=fixed), schemas, asyncapi) == [
        "payload (root): 'citizen_cpr' is a required property",
        "payload period.start: '2nd of March' is not a 'date'",
    ]
