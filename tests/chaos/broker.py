"""The Kafka broker `deploy/local/infra` started from this checkout: the only one the chaos test may crash and
start again, since it knows how (the launcher) and can always put it back."""

import asyncio
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from jobbro.infra import REPO, Infrastructure

KAFKA = REPO / ".local" / "kafka"
LAUNCHER = REPO / "deploy" / "local" / "infra"


class NotOurBroker(RuntimeError):
    """The tests run on a broker this checkout's launcher did not start: the chaos test cannot restart it."""


@dataclass(frozen=True)
class LocalBroker:
    """The launcher's broker serving `bootstrap`."""

    bootstrap: str

    @classmethod
    def of(cls, infra: Infrastructure) -> "LocalBroker":
        """The broker the tests use, if it is the launcher's; else `NotOurBroker` saying why."""
        config = KAFKA / "server.properties"
        port = re.search(r"^listeners=SASL_SSL://127\.0\.0\.1:(\d+),", _read(config), re.MULTILINE)
        ours = f"127.0.0.1:{port[1]}" if port else None
        if infra.kafka_bootstrap != ours:
            raise NotOurBroker(
                f"the chaos test restarts the Kafka broker, so it needs the one deploy/local/infra runs from this "
                f"checkout ({ours or 'none configured in ' + str(config)}); the tests use {infra.kafka_bootstrap} "
                f"({infra.origin}, e.g. JOBBRO_KAFKA_BOOTSTRAP pointing elsewhere)"
            )
        broker = cls(infra.kafka_bootstrap)
        if broker.pid() is None:
            raise NotOurBroker(f"no live broker behind {KAFKA / 'kafka.pid'}: start it with deploy/local/infra up")
        return broker

    def pid(self) -> int | None:
        """The broker's pid, if the launcher's pid file names a live process running its configuration."""
        try:
            pid = int(_read(KAFKA / "kafka.pid"))
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if str(KAFKA / "server.properties").encode() in command else None

    def crash(self, timeout: float = 30.0) -> None:
        """SIGKILL, as a machine failure would, and wait until it is gone."""
        pid = self.pid()
        if pid is None:
            raise NotOurBroker("the broker is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)

    async def start(self) -> None:
        """Start it again with the launcher (which waits until it answers); nothing if it runs."""
        if self.pid() is not None:
            return
        done = await asyncio.to_thread(subprocess.run, [str(LAUNCHER), "up"], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"deploy/local/infra up failed ({done.returncode}):\n{done.stderr[-3000:]}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
