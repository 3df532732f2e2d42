"""The notify process: consumers that record deliveries, a worker that sends them, and the subscriptions API."""

from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI

from contracts import benefits
from contracts.catalog import EVENT_TYPES
from contracts.envelope import Event
from contracts.subsidy import ApplicationSubmitted, ApplicationSubmittedV2, PositionApplicationSubmitted
from jobbro.principal import Authenticator
from jobbro.retention import FileSweep
from jobbro.runtime import Handler, Runtime, create_http_app
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


def create_runtime(settings: NotifySettings, context: handlers.Context) -> Runtime[handlers.Context]:
    """Every event of the topics read goes to `on_event` (notices and webhooks), the submissions to the projection."""
    projections: dict[type[Event], Handler[handlers.Context]] = {
        ApplicationSubmitted: handlers.on_application_submitted,
        ApplicationSubmittedV2: handlers.on_application_submitted,
        PositionApplicationSubmitted: handlers.on_position_submitted,
    }
    runtime = Runtime(settings, SQL, context, store=store.PgNotices)
    runtime.retain(*store.RETAINED, FileSweep("letters", settings.digital_post_dir, "*.json"))
    for topic in notices.CONSUMED:
        runtime.consume(
            topic.name,
            group=f"notify.{topic.name}",
            catalog=EVENT_TYPES,
            handlers={model: projections.get(model, handlers.on_event) for model in topic.events},
        )
    runtime.consume(
        benefits.ASSESSMENTS,
        group="notify.erasures",
        catalog=EVENT_TYPES,
        handlers={benefits.CitizenErased: handlers.on_citizen_erased},
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
    settings: NotifySettings,
    runtime: Runtime[handlers.Context] | None = None,
    *,
    authenticator: Authenticator | None = None,
) -> FastAPI:
    """The kit's app (runtime, health) with the subscriptions API, and the delivery worker beside the runtime (a new
    one unless given; a test's context may rebind webhook host names through its resolver)."""
    runtime = runtime or create_runtime(settings, create_context(settings))
    runtime.run_beside("notify-delivery", partial(_deliver, runtime, settings))
    app = create_http_app(runtime, api.create_router(runtime), authenticator=authenticator)
    api.install_problems(app)
    return app


async def _deliver(runtime: Runtime[handlers.Context], settings: NotifySettings) -> None:
    """Run the delivery worker, owning its HTTP client, until cancelled."""
    context = runtime.context
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
        await worker.run()
