"""The local stack: the four services as separate OS processes on the local Kafka and PostgreSQL, with the
stand-ins for what is outside Jobbro (the payment back-office, a mail server).

Each process gets its own database, HTTP port, log file and pid file under `.local/`; `down` stops exactly the
processes whose pid files `up` wrote (and only if the pid still runs that module). A `Layout` names other
folders, ports and databases, so a second stack (the end-to-end test's) can run beside the first, and how many
replicas of each Jobbro service it runs: replicas share their service's database and consumer groups, each with
a port, log and pid file of its own.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import asyncpg
import httpx
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from contracts.provision import provision, remove_acls
from demo import logins
from jobbro.infra import REPO, Infrastructure
from jobbro.kafka_access import KafkaAccess
from services.subsidy import devca

log = structlog.get_logger(__name__)
LOCAL = REPO / ".local"
PORTS: Mapping[str, int] = MappingProxyType(
    {
        "mailsink": 8125,
        "subsidy": 8101,
        "benefits": 8102,
        "activation": 8103,
        "notify": 8104,
        "backoffice": 8105,
        "webhooks": 8126,
        "portal": 8100,
    }
)
"""The HTTP (mailsink: SMTP) port of each process of the stack `jobbro up` runs, and of the demo's webhook receiver
(the one plain-HTTP loopback target notify may call, in development only)."""
_MODULES = (
    ("mailsink", "demo.mailsink"),
    ("subsidy", "services.subsidy"),
    ("benefits", "services.benefits"),
    ("activation", "services.activation"),
    ("notify", "services.notify"),
    ("backoffice", "demo.backoffice"),
    ("portal", "services.portal"),
)
SCALED = ("subsidy", "benefits", "activation", "notify")
"""The services a layout runs `replicas` of; the stand-ins and the portal run once."""


@dataclass(frozen=True)
class Layout:
    """Where one stack lives: its files, ports and databases. `jobbro up` uses the default; a test its own, so it
    can run beside a developer's stack."""

    local: Path = LOCAL
    ports: Mapping[str, int] = field(default_factory=lambda: dict(PORTS))
    database_prefix: str = "jobbro_"
    """Each process's database is this prefix plus its name (`deploy/local/infra` creates the default ones)."""
    replicas: int = 1
    """Processes of each service of `SCALED` (`ports` names each one's port: see `free_ports`)."""

    @property
    def run(self) -> Path:
        return self.local / "run"

    @property
    def logs(self) -> Path:
        return self.local / "logs"

    @property
    def pki(self) -> Path:
        return self.local / "pki"

    @property
    def mail(self) -> Path:
        return self.local / "mail"

    @property
    def digital_post(self) -> Path:
        return self.local / "digital-post"

    @property
    def services(self) -> tuple[Service, ...]:
        """Every process, every replica, in the order they start (the mail sink before notify sends to it)."""
        return tuple(
            Service(name, module, self, replica)
            for name, module in _MODULES
            for replica in range(self.replicas if name in SCALED else 1)
        )

    def service(self, name: str) -> Service:
        """The process called `name` in this layout (its first replica)."""
        return Service(name, dict(_MODULES)[name], self)

    def replicas_of(self, name: str) -> tuple[Service, ...]:
        """Every replica of the process called `name`."""
        return tuple(s for s in self.services if s.name == name)


@dataclass(frozen=True)
class Service:
    """One process of the stack: a Jobbro service, or a stand-in for a party outside Jobbro."""

    name: str
    module: str
    layout: Layout
    replica: int = 0
    """Which of the service's replicas (0 for the first, or only, one)."""

    @property
    def key(self) -> str:
        """The process's name in the layout: the service's name, and its replica's number after the first."""
        return self.name if self.replica == 0 else f"{self.name}-{self.replica}"

    @property
    def port(self) -> int:
        return self.layout.ports[self.key]

    @property
    def args(self) -> tuple[str, ...]:
        if self.name == "mailsink":
            return ("--dir", str(self.layout.mail), "--port", str(self.port))
        return ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.layout.run / f"{self.key}.pid"

    @property
    def log_file(self) -> Path:
        return self.layout.logs / f"{self.key}.log"

    @property
    def has_health(self) -> bool:
        return self.name != "mailsink"

    @property
    def has_database(self) -> bool:
        """The portal holds no domain data: no database and no broker of its own."""
        return self.has_health and self.name != "portal"

    def env(self, infra: Infrastructure, topic_prefix: str) -> dict[str, str]:
        """The process's settings, through its own env prefix (`SUBSIDY_…`)."""
        if not self.has_health:
            return {}
        prefix = self.name.upper() + "_"
        common = {"HTTP_PORT": str(self.port), "LOG_JSON": "true", "OIDC_ISSUER": oidc_issuer()}
        common["ENVIRONMENT"] = "development"  # the development keys and the loopback webhook receiver are allowed
        if not self.has_database:  # the portal: no database, no broker
            return {prefix + name: value for name, value in (common | _own_settings(self)).items()}
        common |= {
            "PG_DSN": infra.database_dsn(self.layout.database_prefix + self.name),
            "TOPIC_PREFIX": topic_prefix,
            "OIDC_AUDIENCE": f"jobbro-{self.name}",
        }
        own = {prefix + name: value for name, value in (common | _own_settings(self)).items()}
        return infra.kafka_as(self.principal).environment(prefix) | own

    @property
    def principal(self) -> str:
        """Who the process is on Kafka: its ACLs (from the catalog) say what it may read and write."""
        return "payment-back-office" if self.name == "backoffice" else self.name


def _own_settings(service: Service) -> dict[str, str]:
    """What a service needs beyond the kit's settings, pointed at the stack's own files and stand-ins."""
    layout = service.layout
    if service.name == "subsidy":
        return {
            "TRUST_ANCHORS": str(layout.pki / "ca.pem"),
            "TRUST_CRLS": json.dumps([str(layout.pki / "crl.pem")]),
        }
    if service.name == "notify":
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(layout.ports["mailsink"]),
            "DIGITAL_POST_DIR": str(layout.digital_post),
            "PORTAL_URL": layout.service("portal").url,
            "WEBHOOK_ALLOWED_TARGETS": json.dumps([f"127.0.0.1:{layout.ports['webhooks']}"]),  # the demo's receiver
            "DELIVERY_BACKOFF_SECONDS": "1",
        }
    if service.name == "portal":
        return {
            "PUBLIC_URL": service.url,
            "SUBSIDY_URL": layout.service("subsidy").url,
            "ACTIVATION_URL": layout.service("activation").url,
        }
    return {}


DEFAULT = Layout()
SERVICES = DEFAULT.services
REPLICA_PORT_STEP = 100
"""`jobbro up --replicas`: a service's second replica listens 100 above its first (subsidy 8101, 8201, 8301…)."""


def local_layout(replicas: int) -> Layout:
    """The developer's stack (`jobbro up`) with `replicas` of each service of `SCALED`, on fixed ports."""
    extra = {
        f"{name}-{replica}": PORTS[name] + REPLICA_PORT_STEP * replica
        for name in SCALED
        for replica in range(1, replicas)
    }
    return Layout(ports=dict(PORTS) | extra, replicas=replicas)


def running_layout() -> Layout:
    """The developer's stack as `jobbro up` last started it (how many replicas: `run/replicas`)."""
    try:
        return local_layout(int((DEFAULT.run / "replicas").read_text()))
    except (OSError, ValueError):
        return DEFAULT


def record_replicas(layout: Layout) -> None:
    """Remember how many replicas the stack runs, for `down` and `status` (`running_layout`)."""
    layout.run.mkdir(parents=True, exist_ok=True)
    (layout.run / "replicas").write_text(str(layout.replicas))


def service(name: str) -> Service:
    return DEFAULT.service(name)


def prepare(layout: Layout = DEFAULT) -> None:
    """The development PKI the subsidy service trusts.

    Made anew when absent or older than a day, since its CRL holds for a week; a running subsidy service
    keeps the CA it started with, so `up` makes it only while the subsidy service is down.
    """
    ca = layout.pki / "ca.pem"
    stale = not ca.exists() or time.time() - ca.stat().st_mtime > 24 * 3600
    if stale and _running_pid(layout.service("subsidy")) is None:
        devca.write_dev_pki(layout.pki, datetime.now(UTC))


@functools.cache
def oidc_issuer() -> str:
    """The identity provider every service of a stack trusts: `JOBBRO_OIDC_ISSUER`, else the development Keycloak of
    deploy/local/keycloak (started if need be)."""
    return logins.local_issuer()


@asynccontextmanager
async def beside(
    infra: Infrastructure, folder: Path, name: str, *, replicas: int = 1
) -> AsyncIterator[tuple[Layout, str]]:
    """A whole stack of its own beside any other (free ports, files under `folder`, fresh databases, a fresh topic
    namespace), started and ready, with its topic prefix; afterwards stopped, its databases and topics removed."""
    tag = f"{name}_{uuid.uuid4().hex[:10]}"
    layout = Layout(local=folder, ports=free_ports(replicas), database_prefix=tag + "_", replicas=replicas)
    prefix = tag + "."
    databases = [layout.database_prefix + name for name in {s.name: s for s in layout.services if s.has_database}]
    await on_server(infra, [f'CREATE DATABASE "{db}"' for db in databases])
    try:
        await provision(infra.kafka, prefix=prefix)
        prepare(layout)
        for service in layout.services:
            start(service, infra, prefix)
        await asyncio.gather(*(wait_ready(service) for service in layout.services))
        yield layout, prefix
    finally:
        for service in reversed(layout.services):
            stop(service)
        await on_server(infra, [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in databases])
        await delete_namespace(infra.kafka, prefix)


def free_ports(replicas: int = 1) -> dict[str, int]:
    """A port per process, every replica's too (`Service.key`), that nothing listens on now (the OS picks them;
    held together so they differ)."""
    keys = [*PORTS, *(f"{name}-{replica}" for name in SCALED for replica in range(1, replicas))]
    sockets = [socket.socket() for _ in keys]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {key: sock.getsockname()[1] for key, sock in zip(keys, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()


async def on_server(infra: Infrastructure, statements: list[str]) -> None:
    """Run statements on the server's maintenance database (CREATE and DROP DATABASE cannot run elsewhere)."""
    conn = await asyncpg.connect(infra.database_dsn("postgres"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def delete_namespace(kafka: KafkaAccess, prefix: str) -> None:
    """Delete every topic of a namespace and its ACLs: thousands of leftover topics slow every client's metadata."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        doomed = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
    await remove_acls(kafka, prefix=prefix)


@dataclass(frozen=True)
class ServiceStatus:
    service: Service
    pid: int | None
    ready: bool
    lag: dict[str, int]
    """Records not yet handled, per consumer group of the service."""
    reason: str = ""
    """Why it is not ready: which dependency failed its check, after how long, and why (from `/health/ready`)."""


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
    service.layout.run.mkdir(parents=True, exist_ok=True)
    service.layout.logs.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", service.module, *service.args],
            cwd=REPO,
            env=_process_environment(service, infra, topic_prefix),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the CLI that started it
        )
    service.pid_file.write_text(str(process.pid))
    (service.layout.run / "topic-prefix").write_text(topic_prefix)
    return process.pid


def run_command(service: Service, infra: Infrastructure, topic_prefix: str, *args: str) -> subprocess.CompletedProcess:
    """Run one of the service's own commands (`python -m services.<name> …`) with the settings it runs with."""
    with spawn_command(
        service, infra, topic_prefix, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def spawn_command(
    service: Service, infra: Infrastructure, topic_prefix: str, *args: str, **popen: Any
) -> subprocess.Popen:
    """Start one of the service's own commands without waiting, so a caller can watch the process (the benchmark
    samples its memory)."""
    return subprocess.Popen(
        [sys.executable, "-m", service.module, *args],
        cwd=REPO,
        env=_process_environment(service, infra, topic_prefix),
        **popen,
    )


def _process_environment(service: Service, infra: Infrastructure, topic_prefix: str) -> dict[str, str]:
    """The caller's environment without its Kafka credentials (the super user's), plus the process's own settings."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("JOBBRO_KAFKA_")}
    return inherited | service.env(infra, topic_prefix)


def running_topic_prefix(layout: Layout = DEFAULT) -> str:
    """The topic prefix the stack was last started with ("" for the catalog's own names)."""
    try:
        return (layout.run / "topic-prefix").read_text()
    except OSError:
        return ""


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


def kill(service: Service, sig: signal.Signals = signal.SIGKILL, timeout: float = 10.0) -> int | None:
    """Signal the service's process if it runs and wait until it is gone (the chaos test's crash); its pid."""
    pid = _running_pid(service)
    if pid is None:
        return None
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _running_pid(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


async def wait_ready(service: Service, timeout: float = 90.0) -> None:
    """Until it is ready (`/health/ready` answers 200, or the port accepts); fail early if the process died."""
    pid = int(service.pid_file.read_text())
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if not Path(f"/proc/{pid}").exists():  # not the cmdline: it may read empty while the process execs
            raise RuntimeError(f"{service.key} exited:\n{_tail(service.log_file)}")
        if (await _readiness(service))[0]:
            return
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{service.key} not ready after {timeout:.0f}s:\n{_tail(service.log_file)}")


async def status(kafka: KafkaAccess, layout: Layout = DEFAULT) -> list[ServiceStatus]:
    prefix = running_topic_prefix(layout)
    try:
        lags = await consumer_lag(kafka, tuple(f"{prefix}{service.principal}." for service in layout.services))
    except KafkaError as exc:  # the status of the processes is still worth showing
        log.warning("consumer_lag_unknown", error=repr(exc))
        lags = {}
    pids = [_running_pid(service) for service in layout.services]
    readiness = await asyncio.gather(
        *(_readiness(service) if pid else _not_running() for service, pid in zip(layout.services, pids, strict=True))
    )
    result = []
    for service, pid, (ready, reason) in zip(layout.services, pids, readiness, strict=True):
        own = {
            group.removeprefix(prefix): lag
            for group, lag in lags.items()
            if group.startswith(prefix + service.principal + ".")
        }
        result.append(ServiceStatus(service, pid, ready, own, reason))
    return result


async def _not_running() -> tuple[bool, str]:
    return False, "not running"


async def _readiness(service: Service) -> tuple[bool, str]:
    """Ready or not, and why not: the failed checks of `/health/ready` (dependency, seconds, reason)."""
    try:
        if not service.has_health:
            _, writer = await asyncio.open_connection("127.0.0.1", service.port)
            writer.close()
            return True, ""
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(service.url + "/health/ready")
    except (OSError, httpx.TransportError) as exc:
        return False, f"no answer: {type(exc).__name__}"
    if response.status_code == 200:
        return True, ""
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        return False, f"HTTP {response.status_code}"
    failed = (f"{name}: {c.get('reason')} ({c.get('seconds')} s)" for name, c in checks.items() if not c.get("ok"))
    return False, "; ".join(failed) or f"HTTP {response.status_code}"


async def consumer_lag(kafka: KafkaAccess, group_prefixes: tuple[str, ...]) -> dict[str, int]:
    """Per consumer group named `<one of group_prefixes>…`: end minus committed offsets, over its partitions."""
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        listed = await admin.list_consumer_groups()
        groups = [group for group, _protocol in listed if group.startswith(group_prefixes)]
        committed = {group: await admin.list_consumer_group_offsets(group) for group in groups}
        existing = set(await admin.list_topics())  # groups may outlive their topics
        partitions = {tp for offsets in committed.values() for tp in offsets if tp.topic in existing}
        ends = await _end_offsets(kafka, partitions)
    finally:
        await admin.close()
    return {
        group: sum(max(ends[tp] - meta.offset, 0) for tp, meta in offsets.items() if tp in ends and meta.offset >= 0)
        for group, offsets in committed.items()
    }


async def _end_offsets(kafka: KafkaAccess, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=None, request_timeout_ms=10_000)
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
