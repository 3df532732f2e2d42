"""Where Kafka and PostgreSQL come from, for the tests and the CLI alike.

First match wins: environment variables naming running instances (`JOBBRO_KAFKA_BOOTSTRAP`, `JOBBRO_PG_SERVER`),
containers when a Docker engine answers (tests only), else the project's own launcher (`deploy/local/infra up`:
Kafka from Maven Central, PostgreSQL from Debian).
"""

import asyncio
import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

REPO = Path(__file__).resolve().parent.parent


class InfrastructureUnavailable(RuntimeError):
    """Kafka or PostgreSQL cannot be reached: tests must fail, never skip."""


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    pg_dsn: str
    """DSN of the server, without a database name."""
    origin: str

    def database_dsn(self, database: str) -> str:
        return f"{self.pg_dsn.rstrip('/')}/{database}"


@contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    """Yield reachable Kafka and PostgreSQL, started here if need be (containers are stopped afterwards)."""
    if found := _from_environment():
        yield _checked(found)
    elif _docker_answers():
        with _containers() as infra:
            yield _checked(infra)
    else:
        yield _checked(_local_launcher())


def local_infrastructure() -> Infrastructure:
    """Running instances named by the environment, else the project's launcher: what outlives this process."""
    return _checked(_from_environment() or _local_launcher())


def _from_environment() -> Infrastructure | None:
    env = os.environ
    if env.get("JOBBRO_KAFKA_BOOTSTRAP") and env.get("JOBBRO_PG_SERVER"):
        return Infrastructure(env["JOBBRO_KAFKA_BOOTSTRAP"], env["JOBBRO_PG_SERVER"], "environment")
    return None


def _docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def _containers() -> Iterator[Infrastructure]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        PostgresContainer("postgres:15", username="jobbro", password="jobbro", driver=None) as pg,
    ):
        dsn = f"postgresql://jobbro:jobbro@{pg.get_container_host_ip()}:{pg.get_exposed_port(5432)}"
        yield Infrastructure(kafka.get_bootstrap_server(), dsn, "testcontainers")


def _local_launcher() -> Infrastructure:
    launcher = REPO / "deploy" / "local" / "infra"
    up = subprocess.run([str(launcher), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        raise InfrastructureUnavailable(f"deploy/local/infra up failed:\n{up.stderr[-3000:]}")
    exports = subprocess.run([str(launcher), "env"], capture_output=True, text=True, check=True).stdout
    values = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in exports.splitlines())
    return Infrastructure(values["JOBBRO_KAFKA_BOOTSTRAP"], values["JOBBRO_PG_SERVER"], "deploy/local/infra")


def _checked(infra: Infrastructure) -> Infrastructure:
    async def check() -> None:
        conn = await asyncpg.connect(infra.database_dsn("postgres"), timeout=10)
        await conn.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap, request_timeout_ms=10000)
        await admin.start()
        try:
            await admin.describe_cluster()
        finally:
            await admin.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        raise InfrastructureUnavailable(f"{infra.origin}: Kafka or PostgreSQL unreachable: {exc!r}") from exc
    return infra
