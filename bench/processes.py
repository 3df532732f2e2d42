"""CPU seconds and peak memory of every process the flow runs on: the stack's services, its PostgreSQL backends,
the shared PostgreSQL and Kafka server processes, and the benchmark itself (the load generator shares the cores)."""

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import psutil

from jobbro.infra import REPO
from jobbroctl.stack import Layout

_KAFKA_PID = REPO / ".local" / "kafka" / "kafka.pid"


@dataclass
class Usage:
    """One process, or a group of them, over the measured phase."""

    cpu_seconds: float = 0.0
    peak_rss: int = 0
    _start: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)

    def sample(self, processes: list[psutil.Process], *, first: bool) -> None:
        rss = 0
        for process in processes:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    rss += process.memory_info().rss
            except psutil.Error:
                continue
            cpu = times.user + times.system
            self._start.setdefault(process.pid, cpu if first else 0.0)
            self._last[process.pid] = cpu
        self.peak_rss = max(self.peak_rss, rss)
        self.cpu_seconds = sum(self._last[pid] - self._start[pid] for pid in self._last)


class Sampler:
    """Samples every half second while the flow runs; `usage` per process name (a service's replicas together) when
    stopped."""

    def __init__(self, layout: Layout, interval: float = 0.5) -> None:
        self._layout = layout
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.usage: dict[str, Usage] = {}

    async def __aenter__(self) -> "Sampler":
        self._sample(first=True)
        self._task = asyncio.create_task(self._run(), name="bench-sampler")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sample(first=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._sample(first=False)

    def _sample(self, *, first: bool) -> None:
        for name, processes in self._processes():
            self.usage.setdefault(name, Usage()).sample(processes, first=first)

    def _processes(self) -> Iterator[tuple[str, list[psutil.Process]]]:
        for name in dict.fromkeys(service.name for service in self._layout.services):
            replicas = []
            for replica in self._layout.replicas_of(name):
                with contextlib.suppress(OSError, ValueError, psutil.Error):
                    replicas.append(psutil.Process(int(replica.pid_file.read_text())))
            yield name, replicas
        yield "bench (load generator)", [psutil.Process()]
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            yield "kafka (shared broker)", [psutil.Process(int(_KAFKA_PID.read_text()))]
        ours, shared = [], []
        for process in psutil.process_iter(["name", "cmdline"]):
            if process.info["name"] != "postgres":
                continue
            command = " ".join(process.info["cmdline"] or ())
            if self._layout.database_prefix in command:
                ours.append(process)
            elif "127.0.0.1(" not in command:  # not another client's backend: checkpointer, WAL writer, …
                shared.append(process)
        yield "postgres (this stack's backends)", ours
        yield "postgres (server processes)", shared
