"""A whole stack for the end-to-end test: every service and stand-in as its own OS process, started by the same
machinery as `jobbro up`, but in its own `Layout` (free ports, a folder under tmp_path, fresh databases) and
topic namespace, so it runs beside a developer's `jobbro up` stack without touching it."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobbro.infra import Infrastructure
from jobbro.testing import unique
from jobbroctl import stack
from jobbroctl.stack import Layout


@pytest.fixture
async def running_stack(infra: Infrastructure, topic_prefix: str, tmp_path: Path) -> AsyncIterator[Layout]:
    """The stack, ready; afterwards its processes stopped (by pid file) and its databases dropped."""
    layout = Layout(local=tmp_path / "local", ports=stack.free_ports(), database_prefix=unique("e2e") + "_")
    databases = [layout.database_prefix + service.name for service in layout.services if service.has_database]
    await stack.on_server(infra, [f'CREATE DATABASE "{name}"' for name in databases])
    stack.prepare(layout)
    try:
        for service in layout.services:
            stack.start(service, infra, topic_prefix)
        await asyncio.gather(*(stack.wait_ready(service) for service in layout.services))
        yield layout
    finally:
        for service in reversed(layout.services):
            stack.stop(service)
        await stack.on_server(infra, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in databases])
