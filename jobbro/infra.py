"""Where Kafka and PostgreSQL come from, for the tests and the CLI alike.

First match wins: environment variables naming running instances (`JOBBRO_KAFKA_BOOTSTRAP`, `JOBBRO_PG_SERVER`),
containers when a Docker engine answers (tests only), else the project's own launcher (`deploy/local/infra up`:
Kafka from Maven Central, PostgreSQL from Debian).

Kafka credentials come the same way (what `deploy/local/infra env` prints): `JOBBRO_KAFKA_SECURITY_PROTOCOL`,
`JOBBRO_KAFKA_CA_FILE`, the provisioning super user in `JOBBRO_KAFKA_SASL_USERNAME` / `JOBBRO_KAFKA_SASL_PASSWORD`,
and each principal's password in `JOBBRO_KAFKA_PASSWORD_<PRINCIPAL>` (`PAYMENT_BACK_OFFICE` for
`payment-back-office`).
"""

import asyncio
import os
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from jobbro.kafka_access import KafkaAccess

REPO = Path(__file__).resolve().parent.parent


class InfrastructureUnavailable(RuntimeError):
    """Kafka or PostgreSQL cannot be reached: tests must fail, never skip."""


@dataclass(frozen=True)
class Infrastructure:
    kafka: KafkaAccess
    """The broker, as the provisioning super user (topics, ACLs, and what tests read and write)."""
    pg_dsn: str
    """DSN of the server, without a database name."""
    origin: str
    kafka_passwords: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Principal → SCRAM password, for each principal of the catalog the broker knows."""

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    def kafka_as(self, principal: str) -> KafkaAccess:
        """The broker as `principal` (a service, the back-office, an integrator): what its ACLs allow, no more.
        A PLAINTEXT broker (containers) knows no principals: everyone is the same anonymous client."""
        if self.kafka.security_protocol == "PLAINTEXT":
            return self.kafka
        try:
            return self.kafka.as_principal(principal, self.kafka_passwords[principal])
        except KeyError:
            raise InfrastructureUnavailable(f"no Kafka password for principal {principal!r}") from None

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
    return _from_variables(os.environ, "environment")


_PASSWORD_VARIABLE = "JOBBRO_KAFKA_PASSWORD_"


def _from_variables(env: Mapping[str, str], origin: str) -> Infrastructure | None:
    if not (env.get("JOBBRO_KAFKA_BOOTSTRAP") and env.get("JOBBRO_PG_SERVER")):
        return None
    protocol = env.get("JOBBRO_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    password, ca_file = env.get("JOBBRO_KAFKA_SASL_PASSWORD"), env.get("JOBBRO_KAFKA_CA_FILE")
    try:
        admin = KafkaAccess(
            env["JOBBRO_KAFKA_BOOTSTRAP"],
            protocol,  # type: ignore[arg-type]  # checked by KafkaAccess
            env.get("JOBBRO_KAFKA_SASL_USERNAME"),
            SecretStr(password) if password else None,
            Path(ca_file) if ca_file else None,
        )
    except ValueError as exc:
        raise InfrastructureUnavailable(f"{origin}: Kafka settings: {exc} (see deploy/local/infra env)") from None
    passwords = {
        name.removeprefix(_PASSWORD_VARIABLE).lower().replace("_", "-"): value
        for name, value in env.items()
        if name.startswith(_PASSWORD_VARIABLE)
    }
    return Infrastructure(admin, env["JOBBRO_PG_SERVER"], origin, passwords)


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
        yield Infrastructure(KafkaAccess(kafka.get_bootstrap_server()), dsn, "testcontainers")


def _local_launcher() -> Infrastructure:
    launcher = REPO / "deploy" / "local" / "infra"
    up = subprocess.run([str(launcher), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        raise InfrastructureUnavailable(f"deploy/local/infra up failed:\n{up.stderr[-3000:]}")
    exports = subprocess.run([str(launcher), "env"], capture_output=True, text=True, check=True).stdout
    values = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in exports.splitlines())
    found = _from_variables(values, "deploy/local/infra")
    if found is None:
        raise InfrastructureUnavailable(f"deploy/local/infra env printed no Kafka and PostgreSQL:\n{exports}")
    return found


def _checked(infra: Infrastructure) -> Infrastructure:
    async def check() -> None:
        conn = await asyncpg.connect(infra.database_dsn("postgres"), timeout=10)
        await conn.close()
        admin = AIOKafkaAdminClient(**infra.kafka.client_kwargs(), request_timeout_ms=10000)
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
