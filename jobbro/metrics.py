"""Prometheus metrics of one process, served at `/metrics`.

HTTP requests come from `prometheus-fastapi-instrumentator`, consumed and published messages from FastStream's
Prometheus middleware; what only the process can see — its outbox (depth, age of the oldest row, rows the broker
refused), its consumers' lag, readiness of each dependency, and a service's own figures (deliveries, payment runs)
— is read when Prometheus scrapes, by probes, so nothing is counted twice or kept in step by hand. Each process has
its own registry (tests run several runtimes in one interpreter). Metric names and the alerts built on them:
`deploy/prometheus/`.
"""

from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.applications import Starlette
from starlette.responses import Response

Probe = Callable[[], Awaitable[object]]


class Metrics:
    """The registry of one process: HTTP request metrics, and gauges that probes set at each scrape."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._probes: list[Probe] = []

    def query_gauge(
        self, name: str, documentation: str, labels: Sequence[str], query: str, pool: Callable[[], asyncpg.Pool]
    ) -> Gauge:
        """A gauge set at each scrape from `query`'s rows: its columns are `labels` in order, then the value."""
        gauge = Gauge(name, documentation, labels, registry=self.registry)

        async def read() -> None:
            async with pool().acquire() as conn:
                rows = await conn.fetch(query)
            gauge.clear()  # a label set that no longer has rows goes, rather than keeping its last value
            for row in rows:
                gauge.labels(*(str(row[i]) for i in range(len(labels)))).set(row[len(labels)])

        self.probe(read)
        return gauge

    def probe(self, probe: Probe) -> None:
        """Run `probe` before every scrape: it sets gauges from what the process can read now."""
        self._probes.append(probe)

    async def exposition(self) -> bytes:
        for probe in self._probes:
            await probe()
        return generate_latest(self.registry)

    def route(self) -> Callable[[], Awaitable[Response]]:
        """The `/metrics` endpoint: run the probes, then the registry in Prometheus' text format."""

        async def metrics() -> Response:
            return Response(await self.exposition(), media_type=CONTENT_TYPE_LATEST)

        return metrics

    def instrument(self, app: Starlette) -> None:
        """Request counts and durations by route template, method and status; health and metrics left out."""
        Instrumentator(
            registry=self.registry,
            excluded_handlers=["/health/live", "/health/ready", "/metrics"],
            should_group_status_codes=False,
        ).instrument(app, metric_namespace="jobbro")


class ServiceMetrics(Metrics):
    """A service's registry: also what the kit's runtime keeps (outbox, consumers, dead letters, readiness)."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.dead_letters = Counter(
            "jobbro_dead_letters",
            "Records a consumer wrote to a dead-letter topic, by original topic and consumer group.",
            ["topic", "group"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "jobbro_outbox_depth", "Outbox rows not yet acknowledged by the broker.", registry=self.registry
        )
        self.outbox_oldest_age = Gauge(
            "jobbro_outbox_oldest_age_seconds",
            "Age of the oldest outbox row (0 when empty): grows when the relay is stuck.",
            registry=self.registry,
        )
        self.outbox_rejected = Gauge(
            "jobbro_outbox_rejected",
            "Outbox rows the broker refused for good, waiting for an operator.",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "jobbro_consumer_lag",
            "Records of a partition behind its high watermark that this process has not fetched yet.",
            ["topic", "group", "partition"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "jobbro_ready",
            "1 when the dependency answered the last readiness check.",
            ["dependency"],
            registry=self.registry,
        )

    def broker_middleware(self) -> KafkaPrometheusMiddleware:
        """FastStream's consumer and producer metrics (messages, sizes, durations, exceptions) in this registry."""
        return KafkaPrometheusMiddleware(registry=self.registry, app_name=self.service, metrics_prefix="jobbro")


async def read_outbox(metrics: ServiceMetrics, pool: asyncpg.Pool) -> None:
    """The outbox's depth, oldest row and refused rows, read in one round trip."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM outbox) AS depth,
                      (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox) AS age,
                      (SELECT count(*) FROM outbox_rejected) AS rejected"""
        )
    metrics.outbox_depth.set(row["depth"])
    metrics.outbox_oldest_age.set(float(row["age"]))
    metrics.outbox_rejected.set(row["rejected"])
