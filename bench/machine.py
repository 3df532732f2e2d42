"""The machine a result was measured on, so figures from different machines are never compared blind."""

import os
import platform
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from jobbro.infra import REPO, Infrastructure

_KAFKA_LIBS = REPO / "deploy" / "kafka" / "target" / "kafka-libs"


async def describe(infra: Infrastructure) -> dict[str, Any]:
    """Cores, memory, CPU model, kernel, and the versions of Python, Kafka and PostgreSQL."""
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "kafka": _kafka_version(infra),
        "postgresql": await _postgres_version(infra),
        "infrastructure": infra.origin,
    }


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def _kafka_version(infra: Infrastructure) -> str:
    """The version of the jars `deploy/local/infra` runs the broker from (another broker's is not known here)."""
    jars = sorted(_KAFKA_LIBS.glob("kafka-server-[0-9]*.jar"))
    if infra.origin != "deploy/local/infra" and not infra.kafka_bootstrap.startswith("127.0.0.1:"):
        return "unknown"
    return jars[-1].stem.removeprefix("kafka-server-") if jars else "unknown"


async def _postgres_version(infra: Infrastructure) -> str:
    conn = await asyncpg.connect(infra.database_dsn("postgres"))
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
