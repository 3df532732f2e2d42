"""The local stack: the four services as separate OS processes on the local Kafka and PostgreSQL.

Each service gets its own database, HTTP port, log file and pid file under `.local/`; `down` stops exactly the
processes whose pid files `up` wrote (and only if the pid still runs that service's module).
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from jobbro.infra import REPO, Infrastructure

LOCAL = REPO / ".local"
RUN = LOCAL / "run"
LOGS = LOCAL / "logs"


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOGS / f"{self.name}.log"

    def env(self, infra: Infrastructure, topic_prefix: str) -> dict[str, str]:
        """The service's settings, through its own env prefix (`SUBSIDY_…`)."""
        prefix = self.name.upper() + "_"
        return {
            prefix + "PG_DSN": infra.database_dsn(f"jobbro_{self.name}"),
            prefix + "KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
            prefix + "HTTP_PORT": str(self.port),
            prefix + "TOPIC_PREFIX": topic_prefix,
            prefix + "LOG_JSON": "true",
        }


SERVICES = (
    Service("subsidy", 8101),
    Service("benefits", 8102),
    Service("activation", 8103),
    Service("notify", 8104),
)


@dataclass(frozen=True)
class ServiceStatus:
    service: Service
    pid: int | None
    ready: bool
    lag: dict[str, int]
    """Records not yet handled, per consumer group of the service."""


def _running_pid(service: Service) -> int | None:
    """The pid from the pid file, if that process still runs this service's module."""
    try:
        pid = int(service.pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if service.module.encode() in cmdline else None


def start(service: Service, infra: Infrastructure, topic_prefix: str = "") -> int:
    """Start the service unless it runs already; return its pid."""
    if pid := _running_pid(service):
        return pid
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", service.module],
            cwd=REPO,
            env={**os.environ, **service.env(infra, topic_prefix)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the CLI that started it
        )
    service.pid_file.write_text(str(process.pid))
    return process.pid


def stop(service: Service, timeout: float = 30.0) -> bool:
    """SIGTERM (the service finishes its in-flight message), SIGKILL after `timeout`; False if it was not running."""
    pid = _running_pid(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running_pid(service) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _running_pid(service):
        os.kill(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return True


async def wait_ready(service: Service, timeout: float = 90.0) -> None:
    """Until `/health/ready` answers 200; fail early, with the log's tail, if the process died."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=5.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            if _running_pid(service) is None:
                raise RuntimeError(f"{service.name} exited:\n{_tail(service.log_file)}")
            try:
                if (await client.get(service.url + "/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{service.name} not ready after {timeout:.0f}s:\n{_tail(service.log_file)}")


async def status(bootstrap: str) -> list[ServiceStatus]:
    lags = await consumer_lag(bootstrap)
    result = []
    async with httpx.AsyncClient(timeout=3.0) as client:
        for service in SERVICES:
            pid = _running_pid(service)
            ready = False
            if pid:
                try:
                    ready = (await client.get(service.url + "/health/ready")).status_code == 200
                except httpx.TransportError:
                    pass
            own = {group: lag for group, lag in lags.items() if group.startswith(service.name + ".")}
            result.append(ServiceStatus(service, pid, ready, own))
    return result


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Per consumer group: end offsets minus committed offsets, summed over its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        groups = [group for group, _protocol in await admin.list_consumer_groups()]
        committed = {group: await admin.list_consumer_group_offsets(group) for group in groups}
        partitions = {tp for offsets in committed.values() for tp in offsets}
        ends = await _end_offsets(bootstrap, partitions)
    finally:
        await admin.close()
    return {
        group: sum(max(ends.get(tp, 0) - meta.offset, 0) for tp, meta in offsets.items() if meta.offset >= 0)
        for group, offsets in committed.items()
    }


async def _end_offsets(bootstrap: str, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        return await consumer.end_offsets(list(partitions))
    finally:
        await consumer.stop()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
