"""The notify process: consumers that record deliveries, a worker that sends them, and the subscriptions API."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI

from contracts import benefits
from contracts.catalog import EVENT_TYPES
from contracts.subsidy import ApplicationSubmitted, ApplicationSubmittedV2, PositionApplicationSubmitted
from jobbro.principal import Authenticator
from jobbro.retention import FileSweep
from jobbro.runtime import Runtime, create_http_app
from services.notify import api, handlers, notices, store
from services.notify.delivery import DeliveryWorker
from services.notify.digital_post import DigitalPostSender, FileDropDigitalPost
from services.notify.domain import Channel, Recipient, RetryPolicy, Role
from services.notify.email import SmtpMailer
from services.notify.links import RepresentativeLinks
from services.notify.render import Renderer
from services.notify.settings import NotifySettings
from services.notify.targets import Resolver, TargetGuard, resolve
from services.notify.webhooks import WebhookSender

SQL = Path(__file__).parent / "sql"


def create_context(settings: NotifySettings, resolver: Resolver = resolve) -> handlers.Context:
    caseworker = Recipient(
        Role.CASEWORKER, Channel.EMAIL, settings.caseworker_mailbox, settings.caseworker_language.value
    )
    return handlers.Context(
        caseworker,
        Renderer(settings.portal_url),
        create_guard(settings, resolver),
        links=RepresentativeLinks.from_settings(settings.link_seal_keys, settings.link_url),
        letters=FileDropDigitalPost(settings.digital_post_dir),
    )


def create_guard(settings: NotifySettings, resolver: Resolver = resolve) -> TargetGuard:
    """Where webhooks may go: public addresses, https unless development says otherwise, and the allowlist."""
    return TargetGuard(
        https_only=settings.webhook_require_https, allowed=settings.webhook_allowed_targets, resolver=resolver
    )


def create_policy(settings: NotifySettings) -> RetryPolicy:
    """How failed deliveries are retried, and paused subscriptions probed."""
    return RetryPolicy(
        base_seconds=settings.delivery_backoff_seconds,
        max_seconds=settings.delivery_backoff_max_seconds,
        give_up_seconds=settings.delivery_give_up_seconds,
        probe_seconds=settings.webhook_probe_seconds,
        jitter=settings.delivery_jitter,
        max_attempts=settings.delivery_max_attempts,
    )


def create_runtime(settings: NotifySettings, context: handlers.Context) -> Runtime:
    """Every event of the topics read goes to `on_event` (notices and webhooks), the submissions to the projection."""
    projections = {
        ApplicationSubmitted: handlers.on_application_submitted,
        ApplicationSubmittedV2: handlers.on_application_submitted,
        PositionApplicationSubmitted: handlers.on_position_submitted,
    }
    runtime = Runtime(settings, SQL)
    runtime.retain(*store.RETAINED, FileSweep("letters", settings.digital_post_dir, "*.json"))
    for topic in notices.CONSUMED:
        runtime.consume(
            topic.name,
            group=f"notify.{topic.name}",
            catalog=EVENT_TYPES,
            handlers={model: partial(projections.get(model, handlers.on_event), ctx=context) for model in topic.events},
        )
    runtime.consume(
        benefits.ASSESSMENTS,
        group="notify.erasures",
        catalog=EVENT_TYPES,
        handlers={benefits.CitizenErased: partial(handlers.on_citizen_erased, ctx=context)},
    )
    runtime.metrics.query_gauge(
        "jobbro_deliveries",
        "Notices and webhook deliveries by channel and status (pending, sent, failed, dead).",
        ["channel", "status"],
        "SELECT channel, status, count(*) FROM delivery GROUP BY channel, status",
        lambda: runtime.pool,
    )
    return runtime


def create_app(
    settings: NotifySettings, resolver: Resolver = resolve, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The kit's app (runtime, health) with the subscriptions API, and the delivery worker inside its lifespan.

    `resolver` turns webhook host names into addresses (the system's; a test's to rebind a name)."""
    context = create_context(settings, resolver)
    runtime = create_runtime(settings, context)
    app = create_http_app(runtime, api.create_router(runtime, context), authenticator=authenticator)
    kit_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with kit_lifespan(app), _delivering(runtime, settings, context):
            yield

    app.router.lifespan_context = lifespan
    return app


@asynccontextmanager
async def _delivering(runtime: Runtime, settings: NotifySettings, context: handlers.Context) -> AsyncIterator[None]:
    """Run the delivery worker (and own its HTTP client) while the runtime runs; stop it before the runtime stops."""
    # no connection is kept: a connection opened for one host name is never reused for another at the same address
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=settings.send_timeout_seconds, limits=limits) as client:
        worker = DeliveryWorker(
            runtime,
            {
                Channel.EMAIL: SmtpMailer(settings),
                Channel.DIGITAL_POST: DigitalPostSender(context.letters),
                Channel.WEBHOOK: WebhookSender(client, context.targets),
            },
            create_policy(settings),
            lease_seconds=settings.delivery_lease_seconds,
            poll_seconds=settings.delivery_poll_seconds,
            concurrency=settings.delivery_concurrency,
            due=context.deliveries_due,
        )
        task = asyncio.create_task(worker.run(), name="notify-delivery")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
