"""py-spy over every service process of a stack while the flow runs (`jobbro bench --profile`): raw collapsed stacks
per process in the run's folder, and the functions of the project that took most of each process's busy samples
(py-spy leaves out a thread waiting idle)."""

import contextlib
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from jobbroctl.stack import Layout

_RATE = 100
"""Samples a second per process: enough for where CPU goes over a run of a minute, little load on shared cores."""
_OURS = ("services/", "jobbro/", "rules/", "contracts/", "demo/")


@contextlib.contextmanager
def sampled(layout: Layout, folder: Path) -> Iterator[dict[str, Path]]:
    """py-spy attached to the first replica of each service while the block runs; the file of each, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    samplers, files = [], {}
    for service in layout.services:
        if service.replica != 0 or not service.pid_file.exists():
            continue
        files[service.name] = folder / f"{service.name}.pyspy.txt"
        command = [str(spy), "record", "--nonblocking", "-r", str(_RATE), "-f", "raw", "-o", str(files[service.name])]
        command += ["-p", service.pid_file.read_text().strip()]
        samplers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield files
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)
        for sampler in samplers:
            sampler.wait(30)


def top(path: Path, n: int = 15) -> list[tuple[str, float]]:
    """The project's functions by their share of the process's busy samples, each stack counted to its innermost
    function of the project: where the project's code hands over to a library (asyncpg, pydantic, the event loop)
    or spends the time itself."""
    innermost: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        ours = [frame for frame in stack.split(";") if any(o in frame for o in _OURS)]
        busy += int(count)
        innermost[ours[-1] if ours else "(outside the project)"] += int(count)
    return [(frame, samples / busy) for frame, samples in innermost.most_common(n)] if busy else []
