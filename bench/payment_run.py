"""The monthly payment run at scale: generated citizens in a fresh benefits database, then the service's own command
(`python -m services.benefits payment-run`) timed, its memory sampled every 50 ms, its database dropped after."""

import asyncio
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import population
from bench.processes import Usage
from jobbro.infra import Infrastructure
from jobbroctl import stack
from jobbroctl.stack import Layout
from services.benefits.app import SQL

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

    @property
    def microseconds_per_citizen(self) -> float:
        return self.seconds / self.citizens * 1e6


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

        await population.generate(infra.database_dsn(database), SQL, citizens, generated)
        generate_seconds = time.perf_counter() - began
        run = await asyncio.to_thread(_run, benefits, infra, database, month, folder, citizens, progress)
        return PaymentRun(citizens, generate_seconds, *run)
    finally:
        await stack.on_server(infra, [f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])


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
