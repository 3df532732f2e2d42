"""`jobbro bench --hop`: the kit's effectively-once hop against raw aiokafka consume → produce, in one run.

The same records (CloudEvents of one size, keyed) are put on an input topic once, then passed through twice on the
same broker: by plain aiokafka (consume, produce with `acks=all` and idempotence, wait for the acks, commit the
offsets) and by the kit's own runtime (consume, one transaction with the inbox claim, one state row and one outbox
row, commit, offset commit; the relay produces the outbox rows and deletes them). Each is timed from its first
record fetched to the last record's output acknowledged, and its CPU counted: this process, and for the kit the
PostgreSQL backends of its database.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench import machine
from bench.run import RESULTS, WORK
from contracts.envelope import Event, Metadata, Record, encode
from jobbro.infra import Infrastructure
from jobbro.kafka import PRODUCER
from jobbro.log import configure_logging
from jobbro.runtime import Runtime
from jobbro.settings import ServiceSettings
from jobbro.testing import create_topics
from jobbro.uow import UnitOfWork
from jobbroctl.stack import delete_namespace, on_server

SQL = Path(__file__).parent / "hop_sql"
_KEYS = 1000
_PARTITIONS = 3


class HopRequested(Event):
    """A record to pass through (the input)."""

    type: ClassVar[str] = "dk.jobbro.bench.hop-requested.v1"
    topic: ClassVar[str] = "hop.requested"
    key_field: ClassVar[str] = "item"
    item: str
    padding: str


class HopPassed(Event):
    """The same record passed on (the output, through the outbox)."""

    type: ClassVar[str] = "dk.jobbro.bench.hop-passed.v1"
    topic: ClassVar[str] = "hop.passed"
    key_field: ClassVar[str] = "item"
    item: str
    padding: str


@dataclass(frozen=True)
class Pass:
    """One pass of the records: wall time from the first fetch to the last output acknowledged, and CPU."""

    records: int
    seconds: float
    cpu_seconds: float
    """This process (consumer, relay, producer and their event loop)."""
    postgres_cpu_seconds: float = 0.0
    """The PostgreSQL backends of the pass's database."""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds

    def as_dict(self) -> dict[str, float]:
        return {
            "records": self.records,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "cpu_seconds": self.cpu_seconds,
            "postgres_cpu_seconds": self.postgres_cpu_seconds,
            "records_per_cpu_second": self.records / (self.cpu_seconds + self.postgres_cpu_seconds),
        }


async def run(
    infra: Infrastructure, *, records: int, record_bytes: int, command: str, profile: bool
) -> tuple[dict[str, Any], Path]:
    """Measure the hop; write `bench/results/<time>-hop.json` and `.md` beside it (the profile, if asked for, to
    `.local/bench/<time>/hop.pyspy.txt`)."""
    configure_logging("bench-hop", json=True, level="WARNING")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    stamp = started.replace(":", "")
    sampled = WORK / stamp / "hop.pyspy.txt" if profile else None
    results: dict[str, Any] = {
        "started": started,
        "command": command,
        "machine": await machine.describe(infra),
        "hop": await measure(infra, records=records, record_bytes=record_bytes, profile=sampled),
    }
    if sampled:
        results["profile"] = str(sampled)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}-hop.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    path.with_suffix(".md").write_text(markdown(results))
    return results, path


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown, for docs/benchmarks.md."""
    machine, hop = results["machine"], results["hop"]
    lines = [
        f"Run {results['started']} (`{results['command']}`): {machine['nproc']} cores ({machine['cpu_model']}), "
        f"Python {machine['python']}, Kafka {machine['kafka']}, PostgreSQL {machine['postgresql']}.",
        "",
        f"{hop['records']} records of {hop['record_bytes']:.0f} bytes on {hop['partitions']} partitions: the kit at "
        f"**{hop['ratio']:.1%}** of raw aiokafka in the same run ({hop['cpu_ratio']:.1%} per CPU second).",
        "",
        "| pass | records/s | seconds | CPU s (this process) | CPU s (PostgreSQL) | records per CPU s |",
        "|---|---|---|---|---|---|",
    ]
    passes = [("raw aiokafka, before", hop["raw"][0]), ("kit", hop["kit"]), ("raw aiokafka, after", hop["raw"][1])]
    for name, row in passes:
        lines.append(
            f"| {name} | {row['per_second']:,.0f} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} | "
            f"{row['postgres_cpu_seconds']:.2f} | {row['records_per_cpu_second']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


async def measure(
    infra: Infrastructure, *, records: int, record_bytes: int, profile: Path | None = None
) -> dict[str, Any]:
    """Raw, then the kit, then raw again, on one input topic; the kit's ratio to the mean of the raw passes.
    With `profile`, py-spy samples this process during the kit's pass (raw, collapsed stacks to that file)."""
    prefix = f"bench_hop_{uuid.uuid4().hex[:10]}."
    database = prefix.rstrip(".")
    await create_topics(infra.kafka, *(prefix + t for t in _topics()), partitions=_PARTITIONS)
    await on_server(infra, [f'CREATE DATABASE "{database}"'])
    try:
        payload = await _fill(infra, prefix, records, record_bytes)
        first = await _raw(infra, prefix, records, "raw-1")
        kit = await _kit(infra, prefix, database, records, profile)
        second = await _raw(infra, prefix, records, "raw-2")
    finally:
        await on_server(infra, [f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])
        await delete_namespace(infra.kafka, prefix)
    raw_per_second = (first.per_second + second.per_second) / 2
    return {
        "records": records,
        "record_bytes": payload,
        "partitions": _PARTITIONS,
        "raw": [first.as_dict(), second.as_dict()],
        "kit": kit.as_dict(),
        "ratio": kit.per_second / raw_per_second,
        "cpu_ratio": kit.as_dict()["records_per_cpu_second"]
        / ((first.as_dict()["records_per_cpu_second"] + second.as_dict()["records_per_cpu_second"]) / 2),
    }


def _topics() -> tuple[str, ...]:
    return (HopRequested.topic, HopRequested.topic + ".dlq", HopPassed.topic, "hop.raw-1", "hop.raw-2")


def _requests(records: int, record_bytes: int) -> list[Record]:
    """`records` encoded requests whose key, value and headers add up to about `record_bytes`."""
    _, probe = encode(HopRequested(item="0", padding=""), source="/bench/hop")
    overhead = len(probe.key) + len(probe.value) + sum(len(k) + len(v) for k, v in probe.headers.items())
    padding = "x" * max(record_bytes - overhead, 0)
    return [encode(HopRequested(item=str(n % _KEYS), padding=padding), source="/bench/hop")[1] for n in range(records)]


async def _fill(infra: Infrastructure, prefix: str, records: int, record_bytes: int) -> float:
    """Put the requests on the input topic (not timed); their average size in bytes."""
    requests = _requests(records, record_bytes)
    producer = AIOKafkaProducer(**infra.kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sends = [
            await producer.send(
                prefix + r.topic, r.value, key=r.key.encode(), headers=[(k, v.encode()) for k, v in r.headers.items()]
            )
            for r in requests
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    sizes = [len(r.key) + len(r.value) + sum(len(k) + len(v) for k, v in r.headers.items()) for r in requests]
    return sum(sizes) / len(sizes)


async def _raw(infra: Infrastructure, prefix: str, records: int, name: str) -> Pass:
    """Plain aiokafka: fetch what has arrived, produce each record; while the next batch is fetched and sent, wait
    for the previous batch's acks and commit its offsets."""
    consumer = AIOKafkaConsumer(
        prefix + HopRequested.topic,
        **infra.kafka.client_kwargs(),
        group_id=prefix + name,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**infra.kafka.client_kwargs(), **PRODUCER)  # the kit's producer settings
    await consumer.start()
    await producer.start()
    try:
        out, seen, started, cpu = prefix + "hop." + name, 0, 0.0, 0.0
        in_flight: tuple[list[asyncio.Future[Any]], dict[TopicPartition, int]] | None = None
        while seen < records:
            batch = await consumer.getmany(timeout_ms=500)
            if batch and not started:
                started, cpu = time.perf_counter(), time.process_time()
            acks = [
                await producer.send(out, r.value, key=r.key, headers=list(r.headers))
                for part in batch.values()
                for r in part
            ]
            if in_flight:  # the previous batch's offsets once its records are acknowledged: one batch in flight
                await asyncio.gather(*in_flight[0])
                await consumer.commit(in_flight[1])
                seen += len(in_flight[0])
            in_flight = (acks, {tp: part[-1].offset + 1 for tp, part in batch.items()}) if batch else None
        return Pass(records, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        await producer.stop()
        await consumer.stop()


async def _kit(infra: Infrastructure, prefix: str, database: str, records: int, profile: Path | None) -> Pass:
    """The kit's runtime passing each request on through its inbox, a state row and its outbox."""
    first: list[tuple[float, float]] = []
    handled: list[int] = [0]

    def counted() -> None:
        handled[0] += 1

    async def on_requested(event: HopRequested, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        if not first:
            first.append((time.perf_counter(), time.process_time()))
            backends.baseline()
        uow.write("INSERT INTO hop_state (event_id, key) VALUES ($1, $2)", meta.id, event.item)
        uow.publish(HopPassed(item=event.item, padding=event.padding))
        uow.after_commit(counted)

    settings = ServiceSettings(
        service="bench-hop",
        environment="development",
        topic_prefix=prefix,
        pg_dsn=infra.database_dsn(database),
        kafka_bootstrap=infra.kafka.bootstrap,
        kafka_security_protocol=infra.kafka.security_protocol,
        kafka_sasl_username=infra.kafka.username or "",
        kafka_sasl_password=infra.kafka.password.get_secret_value() if infra.kafka.password else "",
        kafka_ca_file=infra.kafka.ca_file,
    )
    runtime: Runtime[None] = Runtime(settings, SQL)
    runtime.consume(
        HopRequested.topic,
        group="hop",
        catalog={HopRequested.type: HopRequested},
        handlers={HopRequested: on_requested},
    )
    backends = _Backends(database)
    await runtime.start()
    try:
        async with _sampled(profile):
            conn = await asyncpg.connect(settings.pg_dsn)
            backends.exclude(conn.get_server_pid())
            try:
                while handled[0] < records or await conn.fetchval("SELECT EXISTS (SELECT FROM outbox)"):
                    await asyncio.sleep(0.02)
            finally:
                await conn.close()
            finished, cpu = time.perf_counter(), time.process_time()
            backends.sample()
    finally:
        await runtime.stop()
    return Pass(records, finished - first[0][0], cpu - first[0][1], backends.cpu_seconds)


class _Backends:
    """CPU seconds of the PostgreSQL backends serving one database since `baseline` (the last reading counts)."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._excluded: set[int] = set()

    def exclude(self, pid: int) -> None:
        self._excluded.add(pid)

    def baseline(self) -> None:
        self._start = self._readings()
        self._last = dict(self._start)

    def sample(self) -> None:
        self._last.update(self._readings())

    def _readings(self) -> dict[int, float]:
        readings = {}
        for process in psutil.process_iter(["name", "cmdline"]):
            command = " ".join(process.info["cmdline"] or ())
            if process.info["name"] != "postgres" or f" {self._database} " not in command:
                continue
            if process.pid in self._excluded:
                continue
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                readings[process.pid] = times.user + times.system
        return readings

    @property
    def cpu_seconds(self) -> float:
        return sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())


@contextlib.asynccontextmanager
async def _sampled(profile: Path | None) -> AsyncIterator[None]:
    """py-spy sampling this process while the block runs (nothing without `profile`)."""
    if profile is None:
        yield
        return
    profile.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--nonblocking", "-r", "250", "-f", "raw", "-o", str(profile)]
    command += ["-p", str(os.getpid())]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.sleep(1.0)  # attached before the pass starts
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        await asyncio.to_thread(sampler.wait, 30)
