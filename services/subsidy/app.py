"""The subsidy service's process: subscriptions to the answers it waits for, the deadline timer, the HTTP API."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from contracts import activation, benefits
from contracts.catalog import EVENT_TYPES
from jobbro.principal import Authenticator
from jobbro.runtime import Runtime, create_http_app
from jobbro.shredding import KeyWrap
from rules import Rulebook
from services.subsidy import api, handlers, store, timer
from services.subsidy.handlers import Context
from services.subsidy.links import RepresentativeLinks
from services.subsidy.settings import SubsidySettings
from services.subsidy.store import PgApplications
from services.subsidy.trust import TrustFiles

SQL = Path(__file__).parent / "sql"


def create_context(settings: SubsidySettings) -> Context:
    """Rule data, the representative's link keys and the signing trust, read once at start-up."""
    return Context(
        settings=settings,
        rulebook=Rulebook.load(settings.rules_dir),
        links=RepresentativeLinks.from_settings(settings.link_keys, settings.link_seal_keys),
        trust=TrustFiles(settings.trust_anchors, settings.trust_intermediates, settings.trust_crls),
        keys=KeyWrap(settings.data_key_keks, setting="SUBSIDY_DATA_KEY_KEKS"),
    )


def create_runtime(settings: SubsidySettings, context: Context) -> Runtime[Context]:
    """The service with its subscriptions (benefits' assessments and activation's plan checks) and the deadline
    timer, which runs exactly while the service does."""
    runtime = Runtime(settings, SQL, context, store=partial(PgApplications, keys=context.keys))
    runtime.retain(*store.RETAINED)
    runtime.consume(
        benefits.ASSESSMENTS,
        group="subsidy.assessments",
        catalog=EVENT_TYPES,
        handlers={
            benefits.CitizenAssessed: handlers.on_citizen_assessed,
            benefits.CitizenErased: handlers.on_citizen_erased,
        },
    )
    runtime.consume(
        activation.TOPIC,
        group="subsidy.plan-checks",
        catalog=EVENT_TYPES,
        handlers={activation.ActivationChecked: handlers.on_activation_checked},
    )
    runtime.run_beside("subsidy-deadline-timer", partial(timer.run, runtime))
    return runtime


def create_app(
    settings: SubsidySettings, runtime: Runtime[Context] | None = None, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The HTTP entrypoint; its lifespan starts and stops `runtime` (a new one unless given)."""
    runtime = runtime or create_runtime(settings, create_context(settings))
    app = create_http_app(
        runtime,
        api.create_router(runtime),
        authenticator=authenticator,
        description="Signed applications for internships and wage-subsidy jobs, and their decision.",
        version="1",
    )
    api.install_problems(app)
    return app
