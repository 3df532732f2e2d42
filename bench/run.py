"""`jobbro bench`: the whole flow on a stack of its own, the raw Kafka ceiling for the same events, and the payment
run at growing registry sizes; the figures go to `bench/results/<time>.json` (and `.md`)."""

import asyncio
import json
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from bench import ceiling, machine, payment_run, population, profiles
from bench.flow import EXPECTED, Case, Employers, Kind, plan, previous_month
from bench.milestones import MILESTONES, Milestones
from bench.processes import Sampler
from bench.report import TARGETS, percentiles
from bench.tape import Tape
from demo import logins
from jobbro.infra import REPO, Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout

RESULTS = REPO / "bench" / "results"
WORK = REPO / ".local" / "bench"
"""Each run's stack files (logs, mails) and payment-run logs, kept for a look after the run."""
_IMPORT_CHUNK = 2000


@dataclass(frozen=True)
class Options:
    applications: int
    concurrency: int
    rate: float | None
    wage_every: int
    payment_sizes: tuple[int, ...]
    timeout: float
    command: str
    half: bool = False
    """After the saturated flow, the same flow on a fresh stack in an open loop at half its rate (p99 there)."""
    profile: bool = False
    """py-spy over each service while the (saturated) flow runs."""


def progress_bars() -> Progress:
    """One bar per stage, left on screen when done, so a run's log shows how long each stage took."""
    return Progress(
        TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False
    )


async def run(options: Options, infra: Infrastructure, bars: Progress) -> tuple[dict[str, Any], Path]:
    """Every part of the benchmark, in one run; the results and the JSON file they were written to."""
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": options.command,
        "machine": await machine.describe(infra),
        "options": asdict(options),
        "targets": TARGETS,
    }
    stamp = results["started"].replace(":", "")
    folder = WORK / stamp
    if options.applications:
        results["flow"] = await _flow(options, infra, folder, bars)
        events = results["flow"]["events"]
        measured = await ceiling.measure(
            infra.kafka, records=events["records"], record_bytes=round(events["bytes_avg"])
        )
        results["ceiling"] = {**asdict(measured), "per_second": measured.per_second}
        results["event_layer_ratio"] = events["per_second"] / measured.per_second
        if options.half:
            rate = results["flow"]["applications_per_second"] / 2
            half = replace(options, rate=rate, profile=False)
            results["half"] = await _flow(half, infra, folder / "half", bars) | {"rate": rate}
    month = f"{previous_month(date.today()):%Y-%m}"
    results["payment_runs"] = [await _payment_run(infra, folder, size, month, bars) for size in options.payment_sizes]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results, path


async def _flow(
    options: Options, infra: Infrastructure, folder: Path, bars: Progress, *, replicas: int = 1
) -> dict[str, Any]:
    """The applications through the whole flow on a fresh stack of `replicas` of each service; what it took and
    what it cost."""
    starting = bars.add_task(f"stack: start ({replicas} × each service)", total=None)
    async with stack.beside(infra, folder / "stack", "bench", replicas=replicas) as (layout, prefix):
        bars.update(starting, total=1, completed=1)
        today = datetime.now(UTC).date()
        cases = _signed(options, layout, today, bars)
        async with httpx.AsyncClient(timeout=60.0, limits=httpx.Limits(max_connections=options.concurrency)) as http:
            await _import(http, layout, [case for case in cases if case.registered], bars)
            milestones = Milestones()
            subsidy = [replica.url for replica in layout.replicas_of("subsidy")]
            async with Tape(infra.kafka, prefix, milestones.record) as tape:
                async with (
                    Employers(
                        subsidy, stack.oidc_issuer(), concurrency=options.concurrency, patience=60.0, timeout=60.0
                    ) as employers,
                    Sampler(layout) as sampler,
                ):
                    sampling = profiles.sampled(layout, folder / "profiles") if options.profile else nullcontext({})
                    with sampling as profiled:
                        began = time.time()
                        await _drive(options, employers, cases, milestones, today, bars)
                        finished = time.time()
                lag = await _lag(infra, layout, prefix)
                await tape.drain()
                seen = list(tape.seen)
    records = [s for s in seen if not s.topic.endswith(".dlq")]
    window = max(s.timestamp for s in records) - began
    return {
        "applications": len(cases),
        "wage_subsidies": sum(case.kind is Kind.WAGE_SUBSIDY for case in cases),
        "seconds": finished - began,
        "applications_per_second": len(cases) / (finished - began),
        "submitted_per_second": len(cases) / (max(c.submitted_at for c in cases) - began),  # type: ignore[type-var]
        "retries": employers.retries,
        "retried": dict(employers.retried),
        "latency": _latency(cases, milestones),
        "consumer_lag": lag,
        "processes": {
            name: {"cpu_seconds": usage.cpu_seconds, "peak_rss_mib": usage.peak_rss / 2**20}
            for name, usage in sampler.usage.items()
        },
        "events": {
            "records": len(records),
            "bytes_avg": sum(s.size for s in records) / len(records),
            "per_second": len(records) / window,
            "dead_letters": len(seen) - len(records),
        },
        "profiles": {
            name: {"file": str(path), "top": profiles.top(path)} for name, path in profiled.items() if path.exists()
        },
    }


async def _lag(infra: Infrastructure, layout: Layout, prefix: str) -> dict[str, int]:
    """Records not yet handled, per service (its consumer groups added up)."""
    groups = await stack.consumer_lag(infra.kafka, tuple(f"{prefix}{s.principal}." for s in layout.services))
    return {
        service.name: sum(n for group, n in groups.items() if group.startswith(f"{prefix}{service.name}."))
        for service in layout.services
        if service.has_health
    }


def _signed(options: Options, layout: Layout, today: date, bars: Progress) -> list[Case]:
    """The applications, made and signed before the clock starts (signing is the employers' cost, not Jobbro's)."""
    task = bars.add_task("applications: sign", total=options.applications)
    cases = []
    for start in range(0, options.applications, 200):
        numbers = range(start, min(start + 200, options.applications))
        cases += plan(numbers, layout.pki, today, wage_every=options.wage_every)
        bars.update(task, completed=len(cases))
    return cases


async def _import(http: httpx.AsyncClient, layout: Layout, cases: list[Case], bars: Progress) -> None:
    """The applications' citizens into the benefit registry, through its admin endpoint."""
    task = bars.add_task("citizens: import (admin API)", total=len(cases))
    url = layout.service("benefits").url + "/v1/admin/citizens/import"
    operator = await logins.Logins(http, stack.oidc_issuer()).headers(logins.OPERATOR)
    for start in range(0, len(cases), _IMPORT_CHUNK):
        chunk = cases[start : start + _IMPORT_CHUNK]
        rows = [case.citizen.row(population.MUNICIPALITY) for case in chunk]
        response = await http.post(url, json=rows, headers=operator)
        response.raise_for_status()
        bars.update(task, advance=len(chunk))


async def _drive(
    options: Options, employers: Employers, cases: list[Case], milestones: Milestones, today: date, bars: Progress
) -> None:
    """Submit every application (as fast as allowed, or at the rate), then wait until each reached its milestones."""
    submitted = bars.add_task("applications: submitted", total=len(cases))
    decided = bars.add_task("applications: decided", total=len(cases))
    complete = bars.add_task("applications: every milestone", total=len(cases))
    loop = asyncio.get_running_loop()
    start_mono, start_wall = loop.time(), time.time()

    async def one(index: int, case: Case) -> None:
        due = None
        if options.rate:
            due = start_wall + index / options.rate
            await asyncio.sleep(max(0.0, start_mono + index / options.rate - loop.time()))
        await employers.drive(case, milestones, today, due=due)

    driving = asyncio.gather(*(one(i, case) for i, case in enumerate(cases)))
    deadline = loop.time() + options.timeout
    try:
        while True:
            done = [c for c in cases if c.application_id and not milestones.missing(c.application_id, EXPECTED[c.kind])]
            bars.update(submitted, completed=sum(c.application_id is not None for c in cases))
            bars.update(decided, completed=sum(c.decision is not None for c in cases))
            bars.update(complete, completed=len(done))
            if driving.done():
                driving.result()
                if len(done) == len(cases):
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"applications short of milestones: {_shortfall(cases, milestones)}")
            await asyncio.sleep(0.25)
    finally:
        driving.cancel()


def _shortfall(cases: list[Case], milestones: Milestones) -> dict[str, int]:
    """How many applications of each kind lack each milestone (or the submission itself)."""
    counted: Counter[str] = Counter()
    for case in cases:
        lacking = milestones.missing(case.application_id, EXPECTED[case.kind]) if case.application_id else ["submitted"]
        counted.update(f"{case.kind}: {milestone}" for milestone in lacking)
    return dict(counted)


def _latency(cases: list[Case], milestones: Milestones) -> dict[str, dict[str, float]]:
    """Per milestone, seconds from each application's submission to its first record on the topic."""
    waits: dict[str, list[float]] = {milestone: [] for milestone in MILESTONES}
    for case in cases:
        assert case.application_id and case.submitted_at
        times = milestones.times(case.application_id, EXPECTED[case.kind].get("all notices", 0))
        for milestone, at in times.items():
            waits[milestone].append(at - case.submitted_at)
    return {milestone: percentiles(values) for milestone, values in waits.items() if values}


async def _payment_run(
    infra: Infrastructure, folder: Path, citizens: int, month: str, bars: Progress
) -> dict[str, Any]:
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(f"payment run {citizens:,}: {stage}", total=total)
        bars.update(tasks[stage], completed=done)

    measured = await payment_run.measure(infra, folder / "payment-run", citizens, month, progress)
    return {
        **asdict(measured),
        "microseconds_per_citizen": measured.microseconds_per_citizen,
        "floor_seconds": measured.floor.seconds,
        "ratio": measured.ratio,
        "cpu_ratio": measured.cpu_ratio,
    }
