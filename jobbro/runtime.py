"""A service process's resources — pool, broker, outbox relay — owned by its lifespan, not created at import."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import structlog
from aiokafka import AIOKafkaClient
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from contracts.envelope import Event, Metadata
from jobbro import access, audit, catalog_pages, db, problems, retention, tracing
from jobbro.auth import IdentityProviderUnavailable, OidcAuthenticator
from jobbro.http_limits import RequestLimits
from jobbro.kafka import EventConsumer, EventHandler, create_broker, outbox_publisher
from jobbro.log import configure_logging
from jobbro.metrics import ServiceMetrics, read_outbox
from jobbro.outbox import OutboxRelay
from jobbro.principal import Authenticator
from jobbro.retry import until_reachable
from jobbro.settings import ServiceSettings
from jobbro.uow import StoreFactory, UnitOfWork

log = structlog.get_logger(__name__)

C = TypeVar("C")
"""A service's context: what its handlers need besides the event and the unit of work (`handlers.Context`)."""

Handler = Callable[[Any, Metadata, UnitOfWork, C], Awaitable[None]]
"""Every service's event handler: `async def on_x(event, meta, uow, ctx) -> None`."""


@dataclass(frozen=True)
class Check:
    """One dependency's readiness: whether it answered, how long the check took, and why not."""

    ok: bool
    seconds: float
    reason: str | None = None

    @classmethod
    def passed(cls, started: float) -> "Check":
        return cls(True, round(time.monotonic() - started, 3))

    @classmethod
    def failed(cls, started: float, reason: str) -> "Check":
        return cls(False, round(time.monotonic() - started, 3), reason)


class Runtime(Generic[C]):
    """Everything one service process shares between its entrypoints (subscribers, HTTP API, relay, background
    work), with the service's `context` its handlers and routes are given."""

    _STOP_RELAY_SECONDS = 10.0

    def __init__(
        self,
        settings: ServiceSettings,
        sql_dir: Path | None = None,
        context: C = None,  # type: ignore[assignment]  # a runtime without a context has None
        *,
        store: StoreFactory | None = None,
    ) -> None:
        self.settings = settings
        self.context = context
        self._store = store
        self.metrics = ServiceMetrics(settings.service)
        self.broker: KafkaBroker = create_broker(settings, middlewares=[self.metrics.broker_middleware()])
        self._sql_dirs = [sql_dir] if sql_dir else []
        self._pool: asyncpg.Pool | None = None
        self._relay: OutboxRelay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self.consumers: list[EventConsumer] = []
        self._lag_partitions: dict[str, set[int]] = {}
        """Per consumer group, the partitions whose lag this process last reported."""
        self.metrics.probe(lambda: read_outbox(self.metrics, self.pool))
        self.metrics.probe(self._read_lag)
        self.metrics.probe(self.readiness)  # it sets jobbro_ready
        self._sweeps: list[retention.Sweep] = list(retention.KIT_SWEEPS)
        self._retention: retention.RetentionJob | None = None
        self._retention_task: asyncio.Task[None] | None = None
        self._tracer_provider: TracerProvider | None = None
        self._beside: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}
        self._beside_tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("runtime not started")
        return self._pool

    def unit_of_work(self, cause: Metadata | None = None) -> UnitOfWork:
        return UnitOfWork(self.pool, self.settings.source, cause, self._store)

    def consume(
        self,
        topic: str,
        *,
        group: str,
        catalog: Mapping[str, type[Event]],
        handlers: Mapping[type[Event], Handler[C]],
    ) -> EventConsumer:
        """Subscribe `handlers` to `topic` in consumer group `group` (must be called before `start`); each is
        called with the runtime's context.

        The topic prefix names the group too: deployments sharing a broker never share a consumer group.
        """
        consumer = EventConsumer(
            group=self.settings.topic_prefix + group,
            topic=self.settings.topic_prefix + topic,
            catalog=catalog,
            handlers={model: self._with_context(handler) for model, handler in handlers.items()},
            unit_of_work=self.unit_of_work,
            broker=self.broker,
            settings=self.settings,
            dead_letters=self.metrics.dead_letters,
        )
        consumer.subscribe()
        self.metrics.dead_letters.labels(topic=consumer.topic, group=consumer.group)  # 0 until one: the series exists
        self.consumers.append(consumer)
        return consumer

    def _with_context(self, handler: Handler[C]) -> EventHandler:
        async def handle(event: Any, meta: Metadata, uow: UnitOfWork) -> None:
            await handler(event, meta, uow, self.context)

        return handle

    def run_beside(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` (a service's timer, its delivery worker) while the runtime runs: started after the runtime,
        cancelled before it stops (before `start`)."""
        self._beside[name] = work

    def retain(self, *sweeps: retention.Sweep) -> None:
        """Prune the service's own data classes too, by their periods in `jobbro/retention.toml` (before `start`)."""
        self._sweeps.extend(sweeps)

    async def start(self) -> None:
        """Connect, migrate, then start relaying and consuming (in that order: handlers need the schema)."""
        settings, patience = self.settings, self.settings.startup_patience_seconds
        self._tracer_provider = tracing.configure(settings)
        self._pool = await until_reachable(
            lambda: db.create_pool(settings.pg_dsn, settings.pg_pool_size, settings.database_password),
            what="postgres",
            give_up_after=patience,
        )
        await db.migrate(self._pool, *self._sql_dirs)
        await until_reachable(self._kafka_answers, what="kafka", give_up_after=patience)
        await self.broker.start()
        self._relay = relay = OutboxRelay(
            self._pool,
            outbox_publisher(self.broker, self.settings.topic_prefix),
            batch_size=self.settings.outbox_batch_size,
            poll_seconds=self.settings.outbox_poll_seconds,
        )
        self._relay_task = asyncio.create_task(relay.run(), name=f"{self.settings.service}-outbox-relay")
        self._retention = retention.RetentionJob(
            self._pool,
            self._sweeps,
            interval=settings.retention_interval_seconds,
            batch_size=settings.retention_batch_size,
            max_batches=settings.retention_max_batches,
        )
        self._retention_task = asyncio.create_task(self._retention.run(), name=f"{settings.service}-retention")
        self._beside_tasks = [asyncio.create_task(work(), name=name) for name, work in self._beside.items()]
        log.info(
            "service_started",
            consumers=[c.group for c in self.consumers],
            environment=settings.environment,
            pseudonym_key_id=getattr(settings, "pseudonym_key_id", None),
        )

    async def _kafka_answers(self) -> None:
        """Bootstrap a bare client: the broker's own start leaks a producer when it fails, so it is not retried."""
        client = AIOKafkaClient(**self.settings.kafka.client_kwargs())
        try:
            await client.bootstrap()
        finally:
            await client.close()

    async def stop(self) -> None:
        """Let the relay finish its batch, then finish the consumers' batches in flight (or leave them
        uncommitted), close connections. What they commit meanwhile stays in the outbox for the next start.
        Background work stops first: it must not outlive the pool it writes with."""
        for task in self._beside_tasks:
            task.cancel()
        await asyncio.gather(*self._beside_tasks, return_exceptions=True)
        if self._relay and self._relay_task:
            self._relay.stop()
            try:
                await asyncio.wait_for(asyncio.shield(self._relay_task), self._STOP_RELAY_SECONDS)
            except TimeoutError:  # the broker or the database is not answering: its rows are sent again later
                self._relay_task.cancel()
            await asyncio.gather(self._relay_task, return_exceptions=True)
        if self._retention and self._retention_task:  # a batch in flight rolls back: it is deleted next time
            self._retention.stop()
            self._retention_task.cancel()
            await asyncio.gather(self._retention_task, return_exceptions=True)
        await self.broker.stop()
        if self._pool:
            await self._pool.close()
        if self._tracer_provider:  # export the spans still buffered (a blocking call: off the event loop)
            await asyncio.to_thread(self._tracer_provider.shutdown)
        log.info("service_stopped")

    async def readiness(self) -> dict[str, Check]:
        """Whether PostgreSQL and Kafka answer now, each within `readiness_timeout_seconds`, and if not, why."""
        postgres, kafka = await asyncio.gather(self._check_postgres(), self._check_kafka())
        for name, check in (("postgres", postgres), ("kafka", kafka)):
            self.metrics.ready.labels(dependency=name).set(check.ok)
        return {"postgres": postgres, "kafka": kafka}

    async def _check_postgres(self) -> Check:
        timeout, started = self.settings.readiness_timeout_seconds, time.monotonic()
        if self._pool is None:
            return Check.failed(started, "not connected yet (starting)")
        try:
            async with self._pool.acquire(timeout=timeout) as conn:
                waited = time.monotonic() - started
                await conn.fetchval("SELECT true", timeout=max(timeout - waited, 0.1))
        except TimeoutError:
            busy = self._pool.get_size() - self._pool.get_idle_size()
            return Check.failed(
                started,
                f"no answer within {timeout:g} s ({busy} of {self._pool.get_max_size()} pool connections in use)",
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return Check.failed(started, f"{type(exc).__name__}: {exc}")
        return Check.passed(started)

    async def _check_kafka(self) -> Check:
        timeout, started = self.settings.readiness_timeout_seconds, time.monotonic()
        if await self.broker.ping(timeout=timeout):
            return Check.passed(started)
        return Check.failed(started, f"the broker did not answer within {timeout:g} s")

    async def _read_lag(self) -> None:
        """Each consumer's lag on the partitions it holds now; a partition a rebalance gave to another replica
        leaves this replica's series (that replica reports it), so no stale lag outlives the rebalance."""
        for consumer in self.consumers:
            lags = await consumer.lag()
            for partition, lag in lags.items():
                self.metrics.consumer_lag.labels(topic=consumer.topic, group=consumer.group, partition=partition).set(
                    lag
                )
            for partition in self._lag_partitions.get(consumer.group, set()) - lags.keys():
                self.metrics.consumer_lag.remove(consumer.topic, consumer.group, partition)
            self._lag_partitions[consumer.group] = set(lags)


def create_http_app(
    runtime: Runtime, *routers: APIRouter, authenticator: Authenticator | None = None, **fastapi_kwargs: Any
) -> FastAPI:
    """The process entrypoint: its lifespan owns the runtime; `/health/live` and `/health/ready` for supervisors;
    `/asyncapi` and `/asyncapi.json` for integrators (`jobbro.catalog_pages`); every request within the limits of
    `jobbro.http_limits` and logged once.

    `authenticator` (on `app.state.authenticator`) turns bearer tokens into principals; by default the identity
    provider's tokens, checked against its published keys (`oidc_issuer`, `oidc_audience` of the settings).
    """
    settings = runtime.settings
    configure_logging(settings.service, json=settings.log_json, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=f"Jobbro {settings.service}", lifespan=lifespan, **fastapi_kwargs)
    problems.install_defaults(app)
    access.install(app)
    app.state.authenticator = authenticator or OidcAuthenticator.from_settings(settings)
    app.state.record_refusal = audit.refusal_recorder(runtime)

    async def provider_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        response = problems.problem(503, "identity_provider_unavailable", str(exc))
        response.headers["Retry-After"] = "5"
        return response

    app.add_exception_handler(IdentityProviderUnavailable, provider_unavailable)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.http_max_body_bytes,
        body_timeout_seconds=settings.http_body_timeout_seconds,
        max_json_depth=settings.http_max_json_depth,
    )

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"])
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(check.ok for check in checks.values())
        body = {"status": "ready" if ok else "unready", "checks": {name: asdict(c) for name, c in checks.items()}}
        return JSONResponse(body, status_code=200 if ok else 503)

    app.add_api_route("/metrics", runtime.metrics.route(), include_in_schema=False)
    catalog_pages.install(app, settings.service)

    runtime.metrics.instrument(app)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=tracing.UNTRACED)  # a trace starts at each request

    for router in (*routers, *audit.routers(runtime)):
        app.include_router(router)
    return app
