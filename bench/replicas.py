"""`jobbro bench --replicas N`: the flow on a stack of N replicas of each service beside the same flow on one replica,
in one run against one raw Kafka ceiling, and what a rebalance costs: a replica killed under load, and the time until
its consumer groups consume its partitions again, as the groups themselves report it (members, assignments and
committed offsets read from the broker). Results go to `bench/results/<time>-replicas.json` (and `.md`)."""

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from rich.progress import Progress

from bench import ceiling, machine, population
from bench.flow import EXPECTED, Case, Employers, plan
from bench.milestones import Milestones
from bench.run import RESULTS, WORK, Options, _flow
from bench.tape import Tape
from demo import logins
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbroctl import stack

VICTIM = "benefits"
"""The service a replica of is killed: its groups read the busiest topic (every submission)."""
KILL_AFTER = 0.25
"""The share of the rebalance run's applications submitted before the kill: the flow is under way."""
POLL_SECONDS = 0.2
WATCH_SECONDS = 120.0
"""How long a group is watched after the kill at most (its session timeout is 10 s)."""


async def run(options: Options, infra: Infrastructure, bars: Progress, replicas: int) -> tuple[dict[str, Any], Path]:
    """One replica, then `replicas`, then the rebalance; the results and the JSON file they were written to."""
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": options.command,
        "machine": await machine.describe(infra),
        "options": asdict(options) | {"replicas": replicas},
        "note": "measured on a machine shared with other work: compare the columns of one run, not across runs",
    }
    stamp = results["started"].replace(":", "")
    folder = WORK / f"{stamp}-replicas"
    flows = {n: await _flow(options, infra, folder / f"x{n}", bars, replicas=n) for n in (1, replicas)}
    events = flows[replicas]["events"]
    raw = await ceiling.measure(infra.kafka, records=events["records"], record_bytes=round(events["bytes_avg"]))
    results["ceiling"] = {**asdict(raw), "per_second": raw.per_second}
    results["flows"] = {str(n): _figures(flow, raw.per_second) | {"flow": flow} for n, flow in flows.items()}
    results["rebalance"] = await _rebalance(options, infra, folder / "rebalance", bars, replicas)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}-replicas.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results, path


def _figures(flow: dict[str, Any], ceiling_per_second: float) -> dict[str, float]:
    """What the columns compare: throughput, the event layer against the raw ceiling, CPU per application."""
    cpu = sum(process["cpu_seconds"] for process in flow["processes"].values())
    return {
        "applications_per_second": flow["applications_per_second"],
        "events_per_second": flow["events"]["per_second"],
        "event_layer_ratio": flow["events"]["per_second"] / ceiling_per_second,
        "cpu_seconds_per_application": cpu / flow["applications"],
        "p99_all_notices_seconds": flow["latency"].get("all notices", {}).get("p99", float("nan")),
    }


@dataclass(frozen=True)
class Rebalanced:
    """One consumer group of the killed replica's service: what the killed member held, and how long until others
    held it (the group stable without it) and until each of those partitions' committed offset moved on."""

    group: str
    members_before: int
    orphaned: list[str]
    reassigned_seconds: float | None
    consumed_seconds: float | None


async def _rebalance(
    options: Options, infra: Infrastructure, folder: Path, bars: Progress, replicas: int
) -> dict[str, Any]:
    """A stack of `replicas`, applications driven through it, one replica of `VICTIM` SIGKILLed (not restarted)
    once a quarter of them are submitted; every application must still reach its milestones."""
    task = bars.add_task(f"rebalance: {replicas} × each, one killed", total=None)
    today = datetime.now(UTC).date()
    async with stack.beside(infra, folder / "stack", "rebalance", replicas=replicas) as (layout, prefix):
        cases = plan(range(options.applications), layout.pki, today, wage_every=options.wage_every)
        async with httpx.AsyncClient(timeout=60.0) as http:
            operator = await logins.Logins(http, stack.oidc_issuer()).headers(logins.OPERATOR)
            rows = [case.citizen.row(population.MUNICIPALITY) for case in cases if case.registered]
            url = layout.service("benefits").url + "/v1/admin/citizens/import"
            (await http.post(url, json=rows, headers=operator)).raise_for_status()
        milestones = Milestones()
        async with (
            Tape(infra.kafka, prefix, milestones.record),
            Employers(
                [replica.url for replica in layout.replicas_of("subsidy")],
                stack.oidc_issuer(),
                concurrency=options.concurrency,
                patience=120.0,
                timeout=60.0,
            ) as employers,
        ):
            driving = asyncio.gather(*(employers.drive(case, milestones, today) for case in cases))
            try:
                while sum(case.application_id is not None for case in cases) < KILL_AFTER * len(cases):
                    await asyncio.sleep(POLL_SECONDS)
                groups = await _groups(infra.kafka, f"{prefix}{VICTIM}.")
                victim = layout.replicas_of(VICTIM)[-1]
                before = {group: await _assignment(infra.kafka, group) for group in groups}
                killed_at = time.monotonic()
                await asyncio.to_thread(stack.kill, victim)
                measured = await asyncio.gather(
                    *(_watch(infra.kafka, group, members, killed_at) for group, members in before.items())
                )
                await asyncio.wait_for(driving, options.timeout)
                await _until_done(cases, milestones, options.timeout)
            finally:
                driving.cancel()
    bars.update(task, total=1, completed=1)
    return {
        "victim": victim.key,
        "applications": len(cases),
        "killed_after_submitted": KILL_AFTER,
        "applications_short_of_milestones": sum(bool(_missing(case, milestones)) for case in cases),
        "groups": [asdict(found) for found in measured],
    }


def _missing(case: Case, milestones: Milestones) -> list[str]:
    return milestones.missing(case.application_id, EXPECTED[case.kind]) if case.application_id else ["submitted"]


async def _until_done(cases: list[Case], milestones: Milestones, timeout: float) -> None:
    """Until every application reached its milestones (nothing was lost with the replica), or `timeout`."""
    deadline = time.monotonic() + timeout
    while any(_missing(case, milestones) for case in cases) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)


async def _groups(kafka: KafkaAccess, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        return sorted(group for group, _protocol in await admin.list_consumer_groups() if group.startswith(prefix))
    finally:
        await admin.close()


async def _assignment(kafka: KafkaAccess, group: str) -> tuple[str, dict[str, set[TopicPartition]]]:
    """The group's state and each member's partitions, as its coordinator describes them."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [described] = response.groups
    state, members = described[2], described[5]
    held: dict[str, set[TopicPartition]] = {}
    for member in members:
        member_id, raw = member[0], member[4]
        assignment = ConsumerProtocolMemberAssignment.decode(raw) if raw else None
        held[member_id] = {
            TopicPartition(topic, partition)
            for topic, partitions in (assignment.assignment if assignment else [])
            for partition in partitions
        }
    return state, held


async def _committed(kafka: KafkaAccess, group: str, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=list(partitions))
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def _ends(kafka: KafkaAccess, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=None)
    await consumer.start()
    try:
        return await consumer.end_offsets(list(partitions))
    finally:
        await consumer.stop()


async def _watch(
    kafka: KafkaAccess,
    group: str,
    before: tuple[str, dict[str, set[TopicPartition]]],
    killed_at: float,
) -> Rebalanced:
    """From the kill until the killed member's partitions are held by the others and consumed again.

    The killed member is the one that leaves the group (its session times out): whatever it held before is
    orphaned until the group is stable without it; it is consumed again once each orphaned partition's committed
    offset has moved past where it stood at the kill, or has nothing left to consume (a topic without traffic).
    """
    _state, members = before
    orphaned_at = await _committed(kafka, group, set().union(*members.values()))
    reassigned = consumed = None
    orphaned: set[TopicPartition] = set()
    while time.monotonic() - killed_at < WATCH_SECONDS:
        state, now = await _assignment(kafka, group)
        gone = members.keys() - now.keys()
        if gone and reassigned is None and state == "Stable":
            orphaned = set().union(*(members[member] for member in gone))
            if orphaned <= set().union(*now.values()):
                reassigned = time.monotonic() - killed_at
        if reassigned is not None:
            committed, ends = await _committed(kafka, group, orphaned), await _ends(kafka, orphaned)
            if all(committed.get(tp, -1) > orphaned_at.get(tp, -1) or committed.get(tp) == ends[tp] for tp in orphaned):
                consumed = time.monotonic() - killed_at
                break
        await asyncio.sleep(POLL_SECONDS)
    return Rebalanced(
        group=group,
        members_before=len(members),
        orphaned=sorted(f"{tp.topic}[{tp.partition}]" for tp in orphaned),
        reassigned_seconds=reassigned,
        consumed_seconds=consumed,
    )


def markdown(results: dict[str, Any]) -> str:
    """The figures side by side, for `docs/benchmarks.md`."""
    flows = results["flows"]
    columns = list(flows)
    lines = [
        f"`{results['command']}`, {results['started']} ({results['note']})",
        "",
        "| | " + " | ".join(f"{n} × each service" for n in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    rows = (
        ("applications/s", "applications_per_second", "{:.1f}"),
        ("events/s (the flow's event layer)", "events_per_second", "{:.0f}"),
        ("event layer / raw ceiling", "event_layer_ratio", "{:.2%}"),
        ("CPU s per application (all processes)", "cpu_seconds_per_application", "{:.3f}"),
        ("p99 to all notices, s", "p99_all_notices_seconds", "{:.2f}"),
    )
    for label, key, shape in rows:
        lines.append(f"| {label} | " + " | ".join(shape.format(flows[n][key]) for n in columns) + " |")
    raw = results["ceiling"]
    lines += ["", f"Raw ceiling in the same run: {raw['per_second']:.0f} records/s ({raw['records']} records).", ""]
    rebalance = results["rebalance"]
    lines += [
        f"Rebalance: `{rebalance['victim']}` SIGKILLed after {rebalance['killed_after_submitted']:.0%} of "
        f"{rebalance['applications']} applications were submitted (not restarted); "
        f"{rebalance['applications_short_of_milestones']} applications short of a milestone afterwards.",
        "",
        "| consumer group | members before | partitions it held | held by others after | consumed again after |",
        "|---|---:|---:|---:|---:|",
    ]
    for group in rebalance["groups"]:
        lines.append(
            f"| {group['group'].split('.', 1)[-1]} | {group['members_before']} | {len(group['orphaned'])} | "
            f"{_seconds(group['reassigned_seconds'])} | {_seconds(group['consumed_seconds'])} |"
        )
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"
