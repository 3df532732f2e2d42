"""The monthly payment run at scale: generated citizens in a fresh benefits database, then the service's own command
(`python -m services.benefits payment-run`) timed, its memory sampled every 50 ms, its database dropped after.

Beside it, in the same run and database, its floor: a plain `COPY … TO STDOUT` of what the run reads (the payable
citizens, by the run's own query) and of what it writes (its ledger rows and outbox rows). No Python program can
move those rows faster than PostgreSQL copies them out, so the run's time over the floor's is how close it is."""

import asyncio
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from bench import population
from bench.processes import Usage
from jobbro.infra import Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout
from services.benefits import store
from services.benefits.app import SQL
from services.benefits.rules import Month

_SUMMARY = re.compile(r"(\d+) citizens, (\d+) instructions, (\d+) øre")
_PROGRESS = re.compile(r"(\d+)/(\d+) citizens")


@dataclass(frozen=True)
class PaymentRun:
    citizens: int
    generate_seconds: float
    seconds: float
    """Wall time of the command, start-up and migration check included."""
    instructions: int
    issued_ore: int
    peak_rss: int
    rss_at_tenth: int
    """Resident memory a tenth of the way through (after start-up), to compare with the peak: flat or growing."""
    cpu_seconds: float
    """CPU time of the command (user and system); well below `seconds`, it waited: for its database, or for a core
    that other processes had (a busy machine shows here, not in the work the run did)."""
    postgres_cpu_seconds: float
    """CPU time of the command's PostgreSQL backends: the database's share of the work."""
    floor: "Floor"

    @property
    def microseconds_per_citizen(self) -> float:
        return self.seconds / self.citizens * 1e6

    @property
    def ratio(self) -> float:
        """The run's wall time over its floor's: 1 would be a run as fast as copying its rows out."""
        return self.seconds / self.floor.seconds

    @property
    def cpu_ratio(self) -> float:
        """The run's CPU time (command and backends) over its floor's: steadier than wall time on a busy machine."""
        return (self.cpu_seconds + self.postgres_cpu_seconds) / self.floor.cpu_seconds


@dataclass(frozen=True)
class Floor:
    """Seconds and bytes of a plain `COPY … TO STDOUT` of the rows the run read and the rows it wrote, and the CPU
    seconds of all of it (the copying backend and the receiving process)."""

    read_seconds: float
    written_seconds: float
    cpu_seconds: float
    read_bytes: int
    written_bytes: int

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.written_seconds


async def measure(
    infra: Infrastructure, folder: Path, citizens: int, month: str, progress: Callable[[str, int, int], None]
) -> PaymentRun:
    """Generate `citizens`, run the month's payments once, and measure; `progress(stage, done, total)`."""
    layout = Layout(local=folder, ports=stack.free_ports(), database_prefix=f"bench_pay_{time.time_ns()}_")
    benefits = layout.service("benefits")
    database = layout.database_prefix + "benefits"
    await stack.on_server(infra, [f'CREATE DATABASE "{database}"'])
    try:
        began = time.perf_counter()
        done = 0

        def generated(rows: int) -> None:
            nonlocal done
            done += rows
            progress("generate", done, citizens)

        dsn = infra.database_dsn(database)
        await population.generate(dsn, SQL, citizens, generated)
        generate_seconds = time.perf_counter() - began
        reads, args = store.payable_query(Month.parse(month))
        read = await _copied(dsn, reads, *args)
        run = await asyncio.to_thread(_run, benefits, infra, database, month, folder, citizens, progress)
        ledger, events = await _copied(dsn, _LEDGER, Month.parse(month).first_day), await _copied(dsn, _OUTBOX)
        floor = Floor(read[0], ledger[0] + events[0], read[1] + ledger[1] + events[1], read[2], ledger[2] + events[2])
        return PaymentRun(citizens, generate_seconds, *run, floor)
    finally:
        await stack.on_server(infra, [f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])


_LEDGER = """SELECT instruction_id, idempotency_key, purpose, month, period_start, period_end, amount_ore, due_on,
                    citizen_ref, application_id, payee_cvr FROM payment_instructions WHERE month = $1"""
"""The ledger rows the run wrote (the month's)."""
_OUTBOX = "SELECT event_id, topic, key, value, headers FROM outbox"
"""The events the run wrote (no relay runs in the benchmark: they are all still there)."""


async def _copied(dsn: str, query: str, *args: object) -> tuple[float, float, int]:
    """Seconds, CPU seconds (this process and the backend) and bytes of `COPY (query) TO STDOUT` into this process,
    the bytes counted and dropped. CPU time is what a machine shared with other work does not distort."""
    received = 0

    async def sink(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    conn = await asyncpg.connect(dsn)
    try:
        backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        here = psutil.Process()
        cpu_before = _cpu(backend) + _cpu(here)
        began = time.perf_counter()
        await conn.copy_from_query(query, *args, output=sink)
        seconds = time.perf_counter() - began
        return seconds, _cpu(backend) + _cpu(here) - cpu_before, received
    finally:
        await conn.close()


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _run(
    benefits: stack.Service,
    infra: Infrastructure,
    database: str,
    month: str,
    folder: Path,
    citizens: int,
    progress: Callable[[str, int, int], None],
) -> tuple[float, int, int, int, int, float, float]:
    """Seconds, instructions, øre, peak RSS, RSS a tenth of the way and CPU seconds of one payment-run process,
    and the CPU seconds of its database backends."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"payment-run-{citizens}.log"
    began = time.perf_counter()
    with log.open("w") as stderr:
        process = stack.spawn_command(
            benefits, infra, "", "payment-run", "--month", month, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        watched = psutil.Process(process.pid)
        peak = at_tenth = polls = 0
        command, postgres = Usage(), Usage()
        backends: list[psutil.Process] = []
        while process.poll() is None:
            try:
                rss = watched.memory_info().rss
            except psutil.Error:
                break
            peak = max(peak, rss)
            command.sample([watched], first=False)
            if polls % 20 == 0:  # every second: the pool opens connections as the run needs them
                backends = _backends(database)
            postgres.sample(backends, first=False)
            polls += 1
            done = _done(log)
            if not at_tenth and done >= citizens / 10:
                at_tenth = rss
            progress("pay", done, citizens)
            time.sleep(0.05)
        stdout, _ = process.communicate()
    seconds = time.perf_counter() - began
    summary = _SUMMARY.search(stdout or "")
    if process.returncode != 0 or summary is None:
        raise RuntimeError(f"payment run failed ({process.returncode}):\n{log.read_text()[-3000:]}")
    progress("pay", citizens, citizens)
    return (
        seconds,
        int(summary[2]),
        int(summary[3]),
        peak,
        at_tenth or peak,
        command.cpu_seconds,
        postgres.cpu_seconds,
    )


def _backends(database: str) -> list[psutil.Process]:
    """The PostgreSQL backends serving `database` (a backend's command line names its database)."""
    return [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and database in " ".join(process.info["cmdline"] or ())
    ]


def _done(log: Path) -> int:
    """Citizens done as the run's last progress line says."""
    lines = log.read_text(errors="replace").splitlines()
    found = _PROGRESS.search(lines[-1]) if lines else None
    return int(found[1]) if found else 0
