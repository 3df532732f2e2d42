"""A flood of malformed records on every topic the four services read, with valid events in between.

All four services run in this process at once on real Kafka and PostgreSQL (each its own database, one topic
namespace). Every malformed record must end on `<topic>.dlq` once per consumer group reading the topic, with the
error's class and message; the services must stay ready and handle the valid events published in between; and
no valid event may end on a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from contracts import activation, benefits, subsidy
from contracts.catalog import TOPICS
from contracts.common import Scheme
from contracts.envelope import Event, Metadata, encode
from contracts.examples import example
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import produce, running
from services.activation import app as activation_app
from services.benefits import app as benefits_app
from services.benefits import payment_run
from services.benefits.handlers import Context as BenefitsContext
from services.benefits.rules import Month
from services.notify import app as notify_app
from services.subsidy import app as subsidy_app
from tests.benefits.events import application_submitted, placement_confirmed, settled
from tests.benefits.factories import import_row
from tests.benefits.integration.conftest import register
from tests.keycloak import RealmUsers
from tests.robustness.services import Stack, fresh_databases
from tests.subsidy.factories import make_pki, random_cpr

MARKER = "x-robustness-poison"
"""Header naming each malformed record; dead-lettering keeps the original headers, so its copies carry it too."""
KIND = "x-robustness-kind"
BINARY_HEADER = "x-trace-bin"
"""A header that is not UTF-8 text on a valid event: not a CloudEvents attribute, so not the reader's to refuse."""
PER_KIND = 5
"""Malformed records of each kind per topic (oversized ones: 2)."""
SEED = 9
WAIT_SECONDS = 40.0
ANSWER_SECONDS = 10.0
"""After the dead letters are in, the valid events before the last of them must long have been handled."""


@dataclass(frozen=True)
class Poison:
    """One malformed record, and what every consumer group reading its topic must say about it."""

    topic: str
    kind: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    error_class: str
    only_group: str | None = None
    """The one group that must dead-letter it (a handler's permanent error); None: every group reading `topic`."""
    marker: str = field(default_factory=lambda: uuid4().hex)

    def record(self) -> tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]:
        headers = [*self.headers, (MARKER, self.marker.encode()), (KIND, self.kind.encode())]
        return self.topic, self.key, self.value, headers


@dataclass(frozen=True)
class Valid:
    """A valid catalog event as its producer would publish it, and the groups that must handle it.

    Headers other than CloudEvents' are the producer's business: a reader ignores them, even binary ones.
    """

    meta: Metadata
    record: tuple[str, bytes, bytes, list[tuple[str, bytes]]]
    handled_by: tuple[str, ...]

    @property
    def binary(self) -> bool:
        return any(name == BINARY_HEADER for name, _ in self.record[3])


@dataclass(frozen=True)
class Seen:
    """A record read back: its topic and headers (a dead letter's say why it is there)."""

    topic: str
    headers: dict[str, str]

    @property
    def group(self) -> str:
        return self.headers.get("dlq_consumer_group", "?")


@pytest.fixture
async def stack(
    infra: Infrastructure, kafka: KafkaAccess, topic_prefix: str, tmp_path: Path, realm_users: RealmUsers
) -> AsyncIterator[Stack]:
    async with fresh_databases(infra) as databases:
        yield Stack(kafka, topic_prefix, databases, make_pki(tmp_path), realm_users, tmp_path / "post")


async def test_malformed_records_are_dead_lettered_per_group_while_valid_events_are_handled(stack: Stack) -> None:
    benefits_ctx = benefits_app.create_context(stack.benefits())
    runtimes = _runtimes(stack, benefits_ctx)
    async with AsyncExitStack() as started:
        await asyncio.gather(*(started.enter_async_context(running(runtime)) for runtime in runtimes.values()))
        readers = _readers(runtimes.values())
        assert len(readers) == 6, readers  # every input topic of the four services, each with its groups
        instruction = await _issued_instruction(runtimes["benefits"], benefits_ctx)

        rng = random.Random(SEED)
        poison = [p for topic in sorted(readers) for p in _poison(stack.topic_prefix, topic, rng)]
        valid = _valid_events(stack.topic_prefix, instruction)
        await produce(stack.kafka, *_interleaved(poison, valid, rng))

        expected = _expected_dead_letters(poison, readers)
        dead = await _read_dead_letters(stack, readers, sum(expected.values()))
        problems = _valid_events_dead_lettered(dead) + _dead_letters_differ(dead, poison, expected, readers)
        problems += await _valid_events_unhandled(stack, runtimes, valid, instruction)
        for name, runtime in runtimes.items():
            ready = await runtime.readiness()
            if sorted(name for name, check in ready.items() if check.ok) != ["kafka", "postgres"]:
                problems.append(f"{name} is not ready after the flood: {ready}")
        assert not problems, "\n".join(problems)


def _runtimes(stack: Stack, benefits_ctx: BenefitsContext) -> dict[str, Runtime]:
    subsidy, activation, notify = stack.subsidy(), stack.activation(), stack.notify()
    return {
        "subsidy": subsidy_app.create_runtime(subsidy, subsidy_app.create_context(subsidy)),
        "benefits": benefits_app.create_runtime(stack.benefits(), benefits_ctx),
        "activation": activation_app.create_runtime(activation, activation_app.create_context(activation)),
        "notify": notify_app.create_runtime(notify, notify_app.create_context(notify)),
    }


def _readers(runtimes: Iterable[Runtime]) -> dict[str, list[str]]:
    """Prefixed input topic → the consumer groups reading it, over all services."""
    readers: dict[str, list[str]] = {}
    for runtime in runtimes:
        for consumer in runtime.consumers:
            readers.setdefault(consumer.topic, []).append(consumer.group)
    return readers


# --- the flood --------------------------------------------------------------------------------------------------


def _ce_headers(event_type: str, **changes: str | bytes | None) -> list[tuple[str, bytes]]:
    """CloudEvents binary-mode headers for `event_type`; a change replaces one (bytes as given), None drops it."""
    attributes: dict[str, str | bytes | None] = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid4()),
        "ce_source": "/test/flood",
        "ce_type": event_type,
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    attributes |= {f"ce_{name}": value for name, value in changes.items()}
    return [
        (name, value if isinstance(value, bytes) else value.encode())
        for name, value in attributes.items()
        if value is not None
    ]


def _poison(prefix: str, topic: str, rng: random.Random) -> list[Poison]:
    """Every kind of malformed record for one (prefixed) topic; the event types used are the topic's own."""
    models = next(t.events for t in TOPICS if prefix + t.name == topic)
    found: list[Poison] = []

    def add(kind: str, value: bytes | None, headers: list[tuple[str, bytes]], error_class: str, **extra: Any) -> None:
        keys = [str(uuid4()).encode(), rng.randbytes(rng.randint(1, 40))]
        key = rng.choice(keys if value is None else [None, *keys])  # a record without a value (tombstone) has a key
        found.append(Poison(topic, kind, key, value, headers, error_class, **extra))

    def model() -> type[Event]:
        return rng.choice(models)

    def payload(chosen: type[Event]) -> bytes:
        return example(chosen).model_dump_json().encode()

    for _ in range(PER_KIND):
        junk_headers = [(f"h{rng.randint(0, 99)}", uuid4().hex.encode()) for _ in range(rng.randint(0, 3))]
        add("random_bytes", rng.randbytes(rng.randint(1, 4000)), junk_headers, "EnvelopeError")
        add("not_json", b"\x00" + rng.randbytes(rng.randint(0, 4000)), _ce_headers(model().type), "InvalidPayload")
        chosen = model()
        add("wrong_schema", _wrong_schema(chosen, rng), _ce_headers(chosen.type), "InvalidPayload")
        add("null_value", None, _ce_headers(model().type), "InvalidPayload")
        chosen = model()
        unknown = rng.choice(
            [re.sub(r"\.v\d+$", ".v99", chosen.type), f"dk.jobbro.unheard-of.{uuid4().hex[:8]}.v1", ""]
        )
        add("unknown_type", payload(chosen), _ce_headers(chosen.type, type=unknown), "UnknownEventType")
        chosen = model()
        dropped = rng.sample(["id", "source", "type", "specversion"], rng.randint(1, 4))
        add("missing_headers", payload(chosen), _ce_headers(chosen.type, **dict.fromkeys(dropped)), "EnvelopeError")
        chosen = model()
        bad = rng.choice(
            [
                {"id": rng.choice(["not-a-uuid", "", "12345", "'; DROP TABLE inbox; --"])},
                {"time": "yesterday at noon"},
                {"correlationid": "not-a-uuid-either"},
            ]
        )
        add("bad_attribute", payload(chosen), _ce_headers(chosen.type, **bad), "EnvelopeError")
        chosen = model()
        version = rng.choice(["0.3", "2.0", "", "1.0 ", "1"])
        add("wrong_specversion", payload(chosen), _ce_headers(chosen.type, specversion=version), "EnvelopeError")
        chosen = model()
        undecodable = {rng.choice(["type", "id", "source"]): b"\xff\xfe" + rng.randbytes(4)}
        add("non_utf8_header", payload(chosen), _ce_headers(chosen.type, **undecodable), "EnvelopeError")
    for size in (256 * 1024 + 1, rng.randint(300_000, 700_000)):
        chosen = model()
        body = payload(chosen)
        oversized = body[:-1] + b"," + json.dumps({"padding": "x" * size}).encode()[1:]
        add("oversized", oversized, _ce_headers(chosen.type), "EnvelopeError")
    if topic == prefix + subsidy.TOPIC:
        for _ in range(2):  # schema-valid, but its citizen_ref is not the pseudonym of its CPR number
            mismatched = example(subsidy.ApplicationSubmitted).model_copy(
                update={"application_id": uuid4(), "citizen_cpr": random_cpr(), "citizen_ref": f"c-{uuid4().hex[:16]}"}
            )
            _, record = encode(mismatched, source="/test/flood")
            headers = [(name, value.encode()) for name, value in record.headers.items()]
            group = prefix + "benefits.assessment"
            add("pseudonym_mismatch", record.value, headers, "PseudonymMismatch", only_group=group)
    return found


def _wrong_schema(model: type[Event], rng: random.Random) -> bytes:
    """JSON that is not `model`: another shape altogether, a required field missing, or a field of the wrong type."""
    data = json.loads(example(model).model_dump_json())
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    choice = rng.randrange(4)
    if choice == 0:
        return rng.choice([b"{}", b"[]", b"null", b"42", b'"an event"', b"true"])
    if choice == 1:
        del data[rng.choice(required)]
    else:
        data[rng.choice(required)] = rng.choice([{"not": ["a", "value"]}, [None, None]])
    return json.dumps(data).encode()


def _valid_events(prefix: str, instruction: asyncpg.Record) -> list[Valid]:
    """Catalog events the services handle, with fresh ids: answers are expected on their output topics."""
    groups = {
        "subsidy": ("benefits.assessment", "activation.plans", f"notify.{subsidy.TOPIC}"),
        "placement": ("benefits.placements", "activation.plans", f"notify.{subsidy.TOPIC}"),
        "assessed": ("subsidy.assessments", "activation.assessments"),
        "plan": ("subsidy.plan-checks", f"notify.{activation.TOPIC}"),
        "adjusted": (f"notify.{benefits.ADJUSTMENTS}",),
        "instruction": (f"notify.{benefits.PAYMENT_INSTRUCTIONS}",),
        "settled": ("benefits.settlements",),
    }
    start, end = date(2026, 6, 1), date(2026, 9, 30)
    events: list[tuple[Any, ...]] = [  # (event, purpose[, headers besides the CloudEvents ones])
        (application_submitted(random_cpr(), Scheme.INTERNSHIP, start, end), "subsidy"),
        (application_submitted(random_cpr(), Scheme.WAGE_SUBSIDY_PRIVATE, start, end), "subsidy"),
        (placement_confirmed(instruction["citizen_ref"], Scheme.WAGE_SUBSIDY_PRIVATE, start, end), "placement"),
        (_fresh(benefits.CitizenAssessed), "assessed"),
        (_fresh(benefits.CitizenAssessed), "assessed", [(BINARY_HEADER, b"\x00\x9b\xff" + uuid4().bytes)]),
        (_fresh(activation.ActivationChecked), "plan"),
        (_fresh(benefits.BenefitAdjusted), "adjusted"),
        (_fresh(benefits.PaymentInstructionIssued), "instruction"),
        (application_submitted(random_cpr(), Scheme.WAGE_SUBSIDY_PUBLIC, start, end), "subsidy"),
        (
            settled(instruction["instruction_id"], instruction["idempotency_key"], instruction["amount_ore"]),
            "settled",
        ),
    ]
    found = []
    for event, purpose, *extra in events:
        meta, record = encode(event, source="/test/stand-in")
        headers = [(name, value.encode()) for name, value in record.headers.items()] + (extra[0] if extra else [])
        raw = (prefix + record.topic, record.key.encode(), record.value, headers)
        found.append(Valid(meta, raw, tuple(prefix + group for group in groups[purpose])))
    return found


def _fresh(model: type[Event]) -> Event:
    """The catalog example of `model` with new ids for every id field it has."""
    ids = ("assessment_id", "application_id", "adjustment_id", "instruction_id")
    fields = {name: uuid4() for name in ids if name in model.model_fields}
    if "citizen_ref" in model.model_fields:
        fields["citizen_ref"] = f"c-{uuid4().hex[:16]}"
    return example(model).model_copy(update=fields)


def _interleaved(poison: Sequence[Poison], valid: Sequence[Valid], rng: random.Random) -> list[Any]:
    """The malformed records shuffled, each valid event (in order) after the next share of them: the last is last."""
    shuffled: list[Any] = [p.record() for p in poison]
    rng.shuffle(shuffled)
    records, share = [], len(shuffled) / len(valid)
    for index, event in enumerate(valid):
        records += [*shuffled[round(index * share) : round((index + 1) * share)], event.record]
    return records


async def _issued_instruction(runtime: Runtime, ctx: BenefitsContext) -> asyncpg.Record:
    """A payment instruction benefits has issued to a registered citizen (one payment run): one to settle."""
    await register(runtime.pool, ctx, import_row())
    await payment_run.run(runtime.pool, ctx, Month(2026, 11), batch_size=10, source=runtime.settings.source)
    return await runtime.pool.fetchrow(
        "SELECT instruction_id, idempotency_key, amount_ore, citizen_ref FROM payment_instructions"
    )


# --- what came out -------------------------------------------------------------------------------------------------


def _expected_dead_letters(poison: Sequence[Poison], readers: dict[str, list[str]]) -> Counter[tuple[str, str]]:
    """(consumer group, marker) → 1 for every copy a group must dead-letter."""
    return Counter(
        (group, p.marker) for p in poison for group in readers[p.topic] if p.only_group is None or p.only_group == group
    )


async def _read_dead_letters(stack: Stack, readers: dict[str, list[str]], expect: int) -> list[Seen]:
    """Every record on the dead-letter topics of the input topics: at least `expect`, then two seconds more."""
    return await _read_until(
        stack.kafka,
        [topic + ".dlq" for topic in readers],
        lambda records: len(records) >= expect,
        settle=2.0,
        timeout=WAIT_SECONDS,
    )


async def _read_until(
    kafka: KafkaAccess,
    topics: Sequence[str],
    done: Callable[[list[Seen]], bool],
    *,
    settle: float,
    timeout: float,
) -> list[Seen]:
    consumer = AIOKafkaConsumer(
        *topics,
        **kafka.client_kwargs(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=2 * 1024 * 1024,
    )
    await consumer.start()
    try:
        found: list[Seen] = []
        loop = asyncio.get_running_loop()
        deadline, settle_until = loop.time() + timeout, None
        while loop.time() < (settle_until or deadline):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [_seen(record) for record in records]
            if settle_until is None and done(found):
                settle_until = loop.time() + settle
        return found
    finally:
        await consumer.stop()


def _seen(record: ConsumerRecord) -> Seen:
    return Seen(record.topic, {name: raw.decode("utf-8", "backslashreplace") for name, raw in record.headers})


def _valid_events_dead_lettered(dead: Sequence[Seen]) -> list[str]:
    return [
        f"valid event dead-lettered by {d.group}: {d.headers.get('ce_type')}, "
        f"{d.headers.get('dlq_error_class')}: {d.headers.get('dlq_error_message')}"
        for d in dead
        if MARKER not in d.headers
    ]


def _dead_letters_differ(
    dead: Sequence[Seen], poison: Sequence[Poison], expected: Counter[tuple[str, str]], readers: dict[str, list[str]]
) -> list[str]:
    """Each malformed record dead-lettered once by each group that must, on its topic's `.dlq`, with its reason."""
    by_marker = {p.marker: p for p in poison}
    found = Counter((d.group, d.headers[MARKER]) for d in dead if MARKER in d.headers)
    missing, extra = expected - found, found - expected
    problems = []
    if missing or extra:
        problems.append(f"dead letters found/expected per group: {_per_group(expected, found, readers)}")
    for what, copies in (("never dead-lettered", missing), ("dead-lettered unexpectedly or repeatedly", extra)):
        kinds = Counter((group.removeprefix(_prefix(readers)), by_marker[m].kind) for group, m in copies.elements())
        problems += [f"{what}: {n} x {kind} by {group}" for (group, kind), n in sorted(kinds.items())]
    for letter in dead:
        original = by_marker.get(letter.headers.get(MARKER, ""))
        headers = letter.headers
        if original is not None and (
            letter.topic != original.topic + ".dlq"
            or headers.get("dlq_original_topic") != original.topic
            or headers.get("dlq_error_class") != original.error_class
            or not headers.get("dlq_error_message")
            or not headers.get("dlq_original_offset", "").isdigit()
        ):
            reason = f"{headers.get('dlq_error_class')}: {headers.get('dlq_error_message')}"
            problems.append(
                f"{original.kind} dead-lettered by {letter.group} on {letter.topic} as {reason}"
                f" (expected {original.error_class})"
            )
    return problems


def _prefix(readers: dict[str, list[str]]) -> str:
    return next(iter(readers)).split(".", 1)[0] + "."


def _per_group(
    expected: Counter[tuple[str, str]], found: Counter[tuple[str, str]], readers: dict[str, list[str]]
) -> str:
    def count(copies: Counter[tuple[str, str]], group: str) -> int:
        return sum(n for (g, _), n in copies.items() if g == group)

    prefix = _prefix(readers)
    return ", ".join(
        f"{group.removeprefix(prefix)} {count(found, group)}/{count(expected, group)}"
        for names in readers.values()
        for group in names
    )


async def _valid_events_unhandled(
    stack: Stack, runtimes: dict[str, Runtime], valid: Sequence[Valid], instruction: asyncpg.Record
) -> list[str]:
    """Each group handled (its inbox) the valid events it subscribes to; their answers are out, or in a database."""
    prefix = stack.topic_prefix
    submitted = [v.meta for v in valid if v.meta.type == subsidy.ApplicationSubmitted.type]
    confirmed = next(v.meta for v in valid if v.meta.type == subsidy.PlacementConfirmed.type)
    answers = await _read_until(
        stack.kafka,
        [prefix + benefits.ASSESSMENTS, prefix + benefits.ADJUSTMENTS, prefix + activation.TOPIC],
        lambda records: not _unanswered(records, submitted, confirmed),
        settle=0.2,
        timeout=ANSWER_SECONDS,
    )
    problems = [f"no answer: {answer}" for answer in _unanswered(answers, submitted, confirmed)]
    deadline = asyncio.get_running_loop().time() + ANSWER_SECONDS
    while (
        unhandled := await _unhandled(runtimes, valid, instruction)
    ) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return problems + unhandled


def _unanswered(records: Sequence[Seen], submitted: Sequence[Metadata], confirmed: Metadata) -> list[str]:
    """What is missing of: benefits assessed and activation checked each submission; activation recorded the
    confirmed placement and benefits suspended the citizen's dagpenge for it."""
    seen = {(d.headers.get("ce_type"), d.headers.get("ce_causationid")) for d in records}
    wanted = [(benefits.CitizenAssessed.type, m.id) for m in submitted]
    wanted += [(activation.ActivationChecked.type, m.id) for m in submitted]
    wanted += [(activation.ActivationRecorded.type, confirmed.id), (benefits.BenefitAdjusted.type, confirmed.id)]
    return [f"{answer} to {cause}" for answer, cause in wanted if (answer, str(cause)) not in seen]


async def _unhandled(runtimes: dict[str, Runtime], valid: Sequence[Valid], instruction: asyncpg.Record) -> list[str]:
    """Valid events a group should have handled and has not (yet), and effects not (yet) in the databases."""
    handled: set[tuple[str, UUID]] = set()
    for runtime in runtimes.values():
        rows = await runtime.pool.fetch("SELECT consumer, event_id FROM inbox")
        handled |= {(row["consumer"], row["event_id"]) for row in rows}
    problems = [
        f"{group} did not handle {v.meta.type}" + (f" (it has a binary {BINARY_HEADER} header)" if v.binary else "")
        for v in valid
        for group in v.handled_by
        if (group, v.meta.id) not in handled
    ]
    settlement = await runtimes["benefits"].pool.fetchval(
        "SELECT state FROM payment_instructions WHERE instruction_id = $1", instruction["instruction_id"]
    )
    if settlement != "settled":
        problems.append(f"benefits did not record the settlement: the instruction is {settlement}")
    templates = await runtimes["notify"].pool.fetch("SELECT template FROM delivery ORDER BY template")
    wanted = ["benefit-adjusted", "benefit-adjusted", "payment-issued"]  # the published one, benefits' answer
    if (recorded := [row["template"].split(".")[0] for row in templates]) != wanted:
        problems.append(f"notify recorded deliveries {recorded}, not {wanted}")
    return problems
