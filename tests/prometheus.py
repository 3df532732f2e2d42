"""A real Prometheus (Debian's package, `scripts/bootstrap-prometheus`) scraping processes of a test, with the alert
rules of deploy/prometheus/ loaded; the tests ask it through its HTTP API as Grafana or an operator would."""

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from jobbro.infra import REPO
from tests.example.process import free_port

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"


def binary(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} not found: scripts/bootstrap-prometheus installs Debian's prometheus package"
    return found


def metric_names(rules: Path = ALERTS) -> set[str]:
    """Every metric the alert rules read."""
    exprs = [rule["expr"] for group in yaml.safe_load(rules.read_text())["groups"] for rule in group["rules"]]
    return {name for expr in exprs for name in re.findall(r"\b(up|jobbro_[a-z_]+)\b", expr)}


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    async def query(self, expr: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            answer = (await client.get("/api/v1/query", params={"query": expr})).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return answer["data"]["result"]

    async def rules(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            answer = (await client.get("/api/v1/rules")).json()
        return [rule for group in answer["data"]["groups"] for rule in group["rules"]]

    async def until(self, expr: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Until `expr` returns `count` series (Prometheus scrapes every second here)."""
        for _ in range(int(timeout / 0.5)):
            found = await self.query(expr)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.5)
        raise AssertionError(f"{expr}: {found} after {timeout} s")


@asynccontextmanager
async def scraping(targets: list[str], directory: Path) -> AsyncIterator[Prometheus]:
    """Prometheus scraping `targets` (host:port serving /metrics) every second, job "jobbro", rules loaded."""
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": "jobbro", "static_configs": [{"targets": targets}]}],
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(120):
                assert process.poll() is None, (directory / "prometheus.log").read_text()[-2000:]
                try:
                    if (await client.get(url + "/-/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
        yield Prometheus(url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
