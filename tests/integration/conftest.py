from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.example.process import Process


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str], str], Process]]:
    """Start a child process (`python -m module`); every one still running is SIGKILLed after the test."""
    started: list[Process] = []

    def _spawn(module: str, env: dict[str, str], name: str) -> Process:
        process = Process(module, env, tmp_path / f"{name}.log").start()
        started.append(process)
        return process

    yield _spawn
    for process in started:
        process.kill()
