"""Run the example service (or a bare outbox relay) as a separate OS process, and wait until it is ready."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from jobbro.infra import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process with its output in a log file the test can read."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        env = {**os.environ, **self.env, "EXAMPLE_PORT": str(self.port), "JOBBRO_LOG_JSON": "true"}
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", self.module], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until `/health/ready` answers 200 (PostgreSQL and Kafka reachable, schema migrated)."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                if not self.running:
                    raise AssertionError(f"{self.module} exited:\n{self.log()[-3000:]}")
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.module} not ready after {timeout}s:\n{self.log()[-3000:]}")

    async def wait_exit(self, timeout: float = 60.0) -> int:
        assert self._proc is not None
        return await asyncio.wait_for(asyncio.to_thread(self._proc.wait), timeout)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no offset commit, no final flush."""
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()

    def terminate(self) -> None:
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGTERM)
            self._proc.wait(30)
