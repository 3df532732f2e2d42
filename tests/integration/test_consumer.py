"""Consumers on real Kafka and PostgreSQL: effectively once, dead letters, crashes and replicas."""

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg
import pytest

from contracts.envelope import encode
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import create_topics, produce, read_topic, unique
from tests.example.events import ExampleTopics
from tests.example.forwarding import Forwarder
from tests.example.process import Process, free_port
from tests.example.service import UNADDABLE

Spawn = Callable[[str, dict[str, str], str], Process]


@pytest.fixture
async def topics(kafka: KafkaAccess) -> ExampleTopics:
    topics = ExampleTopics(commands=unique("commands"), changes=unique("changes"))
    await create_topics(kafka, topics.commands, topics.commands + ".dlq", topics.changes)
    return topics


def _service_env(database: str, kafka: KafkaAccess, topics: ExampleTopics, group: str) -> dict[str, str]:
    return {
        "JOBBRO_PG_DSN": database,
        **kafka.environment("JOBBRO_"),
        "JOBBRO_RETRY_BASE_SECONDS": "0.05",
        "EXAMPLE_COMMANDS": topics.commands,
        "EXAMPLE_CHANGES": topics.changes,
        "EXAMPLE_GROUP": group,
    }


async def _counter(database: str, counter: str) -> int | None:
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetchval("SELECT value FROM counters WHERE counter = $1", counter)
    finally:
        await conn.close()


async def _wait_for_counter(database: str, counter: str, value: int, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await _counter(database, counter) == value:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{counter} is {await _counter(database, counter)}, expected {value}")


async def test_the_same_event_delivered_twice_changes_state_once(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    service = spawn("tests.example.service", _service_env(database, kafka, topics, unique("g")), "svc")
    await service.wait_ready()
    _, first = encode(add(counter="c", amount=5), source="/test")
    _, second = encode(add(counter="c", amount=7), source="/test")
    await produce(kafka, first, first, second)

    await _wait_for_counter(database, "c", 12)
    changes = await read_topic(kafka, topics.changes, expect=2)
    assert [json.loads(r.value)["value"] for r in changes] == [5, 12]
    assert "event_duplicate_ignored" in service.log()


async def test_a_topic_prefix_gives_a_service_its_own_topics(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    prefix = unique("ns") + "."
    await create_topics(kafka, *(prefix + t for t in (topics.commands, topics.commands + ".dlq", topics.changes)))
    add, _ = topics.bind()
    env = {**_service_env(database, kafka, topics, unique("g")), "JOBBRO_TOPIC_PREFIX": prefix}
    service = spawn("tests.example.service", env, "svc")
    await service.wait_ready()
    _, record = encode(add(counter="c", amount=4), source="/test")
    await produce(kafka, replace(record, topic=prefix + record.topic))

    await _wait_for_counter(database, "c", 4)
    assert len(await read_topic(kafka, prefix + topics.changes, expect=1)) == 1
    assert await read_topic(kafka, topics.changes, expect=0, timeout=3) == []  # nothing outside it


async def test_a_consumer_killed_after_its_commit_but_before_the_offset_commit_does_not_repeat_the_effect(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn, tmp_path: Path
) -> None:
    add, _ = topics.bind()
    env = _service_env(database, kafka, topics, unique("g"))
    marker = tmp_path / "crashed"
    doomed = spawn("tests.example.service", {**env, "EXAMPLE_CRASH_MARKER": str(marker)}, "doomed")
    await doomed.wait_ready()
    _, record = encode(add(counter="c", amount=5), source="/test")
    await produce(kafka, record)
    assert await doomed.wait_exit() != 0 and marker.exists()  # SIGKILLed itself right after its DB commit
    assert await _counter(database, "c") == 5

    survivor = spawn("tests.example.service", env, "survivor")  # same group: the offset was never committed
    await survivor.wait_ready()
    _, later = encode(add(counter="c", amount=7), source="/test")
    await produce(kafka, later)

    await _wait_for_counter(database, "c", 12)
    assert "event_duplicate_ignored" in survivor.log()  # the first event really was delivered again
    changes = await read_topic(kafka, topics.changes, expect=2)
    assert [json.loads(r.value)["version"] for r in changes] == [1, 2]


async def test_poison_records_go_to_the_dead_letter_topic_and_later_records_are_processed(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    group = unique("g")
    service = spawn("tests.example.service", _service_env(database, kafka, topics, group), "svc")
    await service.wait_ready()
    _, valid = encode(add(counter="c", amount=3), source="/test")
    ce = [(name, value.encode()) for name, value in valid.headers.items() if name != "ce_id"]
    poison = [
        ("not JSON", b"\xff\xfe{", "InvalidPayload"),
        ("schema-invalid", json.dumps({"counter": "c", "amount": -1}).encode(), "InvalidPayload"),
    ]
    await produce(
        kafka,
        *((topics.commands, b"c", body, [*ce, ("ce_id", str(uuid4()).encode())]) for _, body, _ in poison),
        (topics.commands, b"c", valid.value, []),  # no CloudEvents headers at all
        (topics.commands, b"c", b"x" * 300_000, [*ce, ("ce_id", str(uuid4()).encode())]),  # oversized
        (
            topics.commands,
            b"c",
            valid.value,
            [*[h for h in ce if h[0] != "ce_type"], ("ce_id", str(uuid4()).encode()), ("ce_type", b"dk.unknown.v1")],
        ),
        valid,
    )

    await _wait_for_counter(database, "c", 3)
    dead = await read_topic(kafka, topics.commands + ".dlq", expect=5)
    assert [dict(r.headers)["dlq_error_class"].decode() for r in dead] == [
        "InvalidPayload",
        "InvalidPayload",
        "EnvelopeError",
        "EnvelopeError",
        "UnknownEventType",
    ]
    bodies = [b"\xff\xfe{", poison[1][1], valid.value, b"x" * 300_000, valid.value]
    for record, body in zip(dead, bodies, strict=True):
        headers = {name: value.decode() for name, value in record.headers}
        assert record.value == body and record.key == b"c"
        assert headers["dlq_original_topic"] == topics.commands
        assert headers["dlq_consumer_group"] == group
        assert int(headers["dlq_original_partition"]) >= 0 and int(headers["dlq_original_offset"]) >= 0
        assert headers["dlq_error_message"] and headers["dlq_failed_at"]
    assert service.running


async def test_a_handler_failing_for_good_dead_letters_its_record_alone_and_its_batch_is_handled(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    _, first = encode(add(counter="c", amount=1), source="/test")
    _, failing = encode(add(counter=UNADDABLE, amount=1), source="/test")
    _, last = encode(add(counter="c", amount=2), source="/test")
    await produce(kafka, first, first, failing, last)  # before the start: fetched as one batch

    service = spawn("tests.example.service", _service_env(database, kafka, topics, unique("g")), "svc")
    await service.wait_ready()
    await _wait_for_counter(database, "c", 3)
    dead = await read_topic(kafka, topics.commands + ".dlq", expect=1)
    assert [dict(r.headers)["ce_id"] for r in dead] == [failing.headers["ce_id"].encode()]
    assert dict(dead[0].headers)["dlq_error_class"] == b"ValueError"
    assert await _counter(database, UNADDABLE) is None
    changes = await read_topic(kafka, topics.changes, expect=2)
    assert [json.loads(r.value)["value"] for r in changes] == [1, 3]
    log = service.log()
    assert "batch_failed_handled_one_by_one" in log and "event_duplicate_ignored" in log


async def test_a_batch_is_handled_in_key_order_and_each_key_in_its_own_order(
    database: str, kafka: KafkaAccess, spawn: Spawn
) -> None:
    topics = ExampleTopics(commands=unique("commands"), changes=unique("changes"))
    await create_topics(kafka, topics.commands, topics.commands + ".dlq", topics.changes, partitions=1)
    add, _ = topics.bind()
    counters = ["b", "a", "c", "a", "b"]
    records = [encode(add(counter=c, amount=n), source="/test")[1] for n, c in enumerate(counters, start=1)]
    await produce(kafka, *records)  # before the start, on one partition: fetched as one batch

    service = spawn("tests.example.service", _service_env(database, kafka, topics, unique("g")), "svc")
    await service.wait_ready()
    changes = await read_topic(kafka, topics.changes, expect=len(counters))
    handled = [(r.key.decode(), json.loads(r.value)["value"]) for r in changes]
    assert handled == [("a", 2), ("a", 6), ("b", 1), ("b", 6), ("c", 3)]  # the sums show each key's own order


async def test_two_replicas_in_one_group_lose_nothing_and_keep_order_per_key(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    env = _service_env(database, kafka, topics, unique("g"))
    replicas = [spawn("tests.example.service", env, f"replica{n}") for n in range(2)]
    for replica in replicas:
        await replica.wait_ready()
    commands = [encode(add(counter=f"k{n % 20}", amount=1), source="/test")[1] for n in range(400)]
    await produce(kafka, *commands[:200])
    replicas[0].kill()  # one replica dies mid-stream; its partitions move to the other, then it comes back
    await produce(kafka, *commands[200:300])
    replicas.append(spawn("tests.example.service", env, "replica0-again"))
    await produce(kafka, *commands[300:])

    for n in range(20):
        await _wait_for_counter(database, f"k{n}", 20)
    changes = await read_topic(kafka, topics.changes, expect=400)
    seen: set[bytes] = set()
    versions: dict[str, list[int]] = defaultdict(list)
    for record in changes:
        event_id = dict(record.headers)["ce_id"]
        if event_id not in seen:  # a relay killed mid-batch may send again: consumers' inboxes drop those
            seen.add(event_id)
            versions[record.key.decode()].append(json.loads(record.value)["version"])
    assert len(seen) == 400
    assert all(v == list(range(1, 21)) for v in versions.values()), versions


async def test_a_graceful_stop_mid_stream_finishes_or_leaves_each_record_and_a_restart_completes(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    records = 3000
    env = _service_env(database, kafka, topics, unique("g"))
    first = spawn("tests.example.service", {**env, "EXAMPLE_HANDLER_SECONDS": "0.002"}, "first")  # 6 s of work
    await first.wait_ready()
    await produce(kafka, *(encode(add(counter="c", amount=1), source="/test")[1] for _ in range(records)))
    for _ in range(300):  # stop while records are still flowing
        if (await _counter(database, "c") or 0) > 0:
            break
        await asyncio.sleep(0.05)
    first.terminate()  # SIGTERM; uvicorn re-raises it after a clean shutdown, so the exit status is -15
    assert "service_stopped" in first.log()
    stopped_at = await _counter(database, "c")

    spawn("tests.example.service", env, "second")
    await _wait_for_counter(database, "c", records)
    changes = await read_topic(kafka, topics.changes, expect=records)
    assert [json.loads(r.value)["version"] for r in changes] == list(range(1, records + 1))
    assert stopped_at is not None and stopped_at < records  # the stop really happened mid-stream


async def test_a_service_started_before_postgres_and_kafka_waits_for_them(
    database: str, kafka: KafkaAccess, topics: ExampleTopics, spawn: Spawn
) -> None:
    add, _ = topics.bind()
    pg, broker = urlsplit(database), urlsplit(f"//{kafka.bootstrap}")
    pg_port, kafka_port = free_port(), free_port()
    env = {
        **_service_env(database, kafka, topics, unique("g")),
        "JOBBRO_PG_DSN": pg._replace(netloc=f"{pg.username}:{pg.password}@127.0.0.1:{pg_port}").geturl(),
        "JOBBRO_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",  # the broker's metadata then names its own address
    }
    service = spawn("tests.example.service", env, "svc")
    await _until_logged(service, '"what": "postgres"')
    async with Forwarder(pg_port, pg.hostname, pg.port):
        await _until_logged(service, '"what": "kafka"')
        async with Forwarder(kafka_port, broker.hostname, broker.port):
            await service.wait_ready()
            _, record = encode(add(counter="c", amount=2), source="/test")
            await produce(kafka, record)
            await _wait_for_counter(database, "c", 2)


async def _until_logged(process: Process, text: str, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.1)):
        assert process.running, process.log()[-3000:]
        if text in process.log():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} not logged:\n{process.log()[-3000:]}")
