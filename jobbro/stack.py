"""The local stack: the four services as separate OS processes on the local Kafka and PostgreSQL, with the
stand-ins for what is outside Jobbro (the payment back-office, a mail server).

Each process gets its own database, HTTP port, log file and pid file under `.local/`; `down` stops exactly the
processes whose pid files `up` wrote (and only if the pid still runs that module).
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from demo import identity
from jobbro.infra import REPO, Infrastructure
from services.subsidy import devca

LOCAL = REPO / ".local"
RUN = LOCAL / "run"
LOGS = LOCAL / "logs"


PKI = LOCAL / "pki"
MAIL = LOCAL / "mail"
DIGITAL_POST = LOCAL / "digital-post"
MAIL_PORT = 8125


@dataclass(frozen=True)
class Service:
    """One process of the stack: a Jobbro service, or a stand-in for a party outside Jobbro."""

    name: str
    module: str
    port: int
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOGS / f"{self.name}.log"

    @property
    def has_health(self) -> bool:
        return self.name != "mailsink"

    def env(self, infra: Infrastructure, topic_prefix: str) -> dict[str, str]:
        """The process's settings, through its own env prefix (`SUBSIDY_…`)."""
        if not self.has_health:
            return {}
        prefix = self.name.upper() + "_"
        common = {
            "PG_DSN": infra.database_dsn(f"jobbro_{self.name}"),
            "KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
            "HTTP_PORT": str(self.port),
            "TOPIC_PREFIX": topic_prefix,
            "LOG_JSON": "true",
        }
        return {prefix + name: value for name, value in (common | _own_settings(self)).items()}


def _own_settings(service: Service) -> dict[str, str]:
    """What a service needs beyond the kit's settings, pointed at the local stack's files and stand-ins."""
    if service.name == "subsidy":
        return {
            "TRUST_ANCHORS": str(PKI / "ca.pem"),
            "TRUST_CRLS": json.dumps([str(PKI / "crl.pem")]),
            "TOKEN_ISSUER_KEY": (PKI / identity.PUBLIC).read_text(),
            "LINK_BASE_URL": f"{service.url}/v1/representative-approval",
        }
    if service.name == "notify":
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(MAIL_PORT),
            "DIGITAL_POST_DIR": str(DIGITAL_POST),
            "PORTAL_URL": "http://127.0.0.1:8101",
            "WEBHOOK_REQUIRE_HTTPS": "false",  # the demo's receiver listens on plain-HTTP loopback
            "DELIVERY_BACKOFF_SECONDS": "1",
        }
    return {}


SERVICES = (
    Service("mailsink", "demo.mailsink", MAIL_PORT, ("--dir", str(MAIL), "--port", str(MAIL_PORT))),
    Service("subsidy", "services.subsidy", 8101),
    Service("benefits", "services.benefits", 8102),
    Service("activation", "services.activation", 8103),
    Service("notify", "services.notify", 8104),
    Service("backoffice", "demo.backoffice", 8105),
)


def service(name: str) -> Service:
    [found] = [s for s in SERVICES if s.name == name]
    return found


def prepare() -> None:
    """The development PKI and identity provider the subsidy service trusts.

    Made anew when absent or older than a day, since its CRL holds for a week; a running subsidy service
    keeps the CA it started with, so `up` makes it only while the subsidy service is down.
    """
    ca = PKI / "ca.pem"
    stale = not ca.exists() or time.time() - ca.stat().st_mtime > 24 * 3600
    if stale and _running_pid(service("subsidy")) is None:
        devca.write_dev_pki(PKI, datetime.now(UTC))
    identity.ensure_issuer(PKI)


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
            [sys.executable, "-m", service.module, *service.args],
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
    """Until it is ready (`/health/ready` answers 200, or the port accepts); fail early if the process died."""
    pid = int(service.pid_file.read_text())
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if not Path(f"/proc/{pid}").exists():  # not the cmdline: it may read empty while the process execs
            raise RuntimeError(f"{service.name} exited:\n{_tail(service.log_file)}")
        if await _ready(service):
            return
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{service.name} not ready after {timeout:.0f}s:\n{_tail(service.log_file)}")


async def status(bootstrap: str) -> list[ServiceStatus]:
    lags = await consumer_lag(bootstrap)
    result = []
    for service in SERVICES:
        pid = _running_pid(service)
        ready = bool(pid) and await _ready(service)
        own = {group: lag for group, lag in lags.items() if group.startswith(service.name + ".")}
        result.append(ServiceStatus(service, pid, ready, own))
    return result


async def _ready(service: Service) -> bool:
    try:
        if not service.has_health:
            _, writer = await asyncio.open_connection("127.0.0.1", service.port)
            writer.close()
            return True
        async with httpx.AsyncClient(timeout=3.0) as client:
            return (await client.get(service.url + "/health/ready")).status_code == 200
    except (OSError, httpx.TransportError):
        return False


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
