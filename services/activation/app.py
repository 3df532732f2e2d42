"""The activation service's process: what it consumes, and its HTTP entrypoint."""

from pathlib import Path

from fastapi import FastAPI

from contracts import benefits, subsidy
from contracts.catalog import EVENT_TYPES
from jobbro.principal import Authenticator
from jobbro.runtime import Runtime, create_http_app
from rules import Rulebook
from services.activation import handlers
from services.activation.api import create_router, install_problems
from services.activation.handlers import Context
from services.activation.settings import ActivationSettings
from services.activation.store import PgPlans

SQL = Path(__file__).parent / "sql"


def create_context(settings: ActivationSettings) -> Context:
    """The rule data, read once at start-up."""
    return Context(rulebook=Rulebook.load(settings.rules_dir))


def create_runtime(settings: ActivationSettings, context: Context) -> Runtime[Context]:
    """Placements and applications build the plan; assessments give deadlines and statistics their facts."""
    runtime = Runtime(settings, SQL, context, store=PgPlans)
    runtime.consume(
        subsidy.TOPIC,
        group="activation.plans",
        catalog=EVENT_TYPES,
        handlers={
            subsidy.ApplicationSubmitted: handlers.on_application_submitted_v1,
            subsidy.ApplicationSubmittedV2: handlers.on_application_submitted,
            subsidy.ApplicationRejected: handlers.on_application_turned_down,
            subsidy.RepresentativeDeclined: handlers.on_application_turned_down,
            subsidy.ApplicationWithdrawn: handlers.on_application_withdrawn,
            subsidy.PlacementConfirmed: handlers.on_placement_confirmed,
            subsidy.PlacementExtended: handlers.on_placement_extended,
            subsidy.PlacementHoursChanged: handlers.on_placement_hours_changed,
            subsidy.PlacementEnded: handlers.on_placement_ended,
        },
    )
    runtime.consume(
        benefits.ASSESSMENTS,
        group="activation.assessments",
        catalog=EVENT_TYPES,
        handlers={
            benefits.CitizenAssessed: handlers.on_citizen_assessed,
            benefits.CitizenErased: handlers.on_citizen_erased,
        },
    )
    return runtime


def create_app(
    settings: ActivationSettings, runtime: Runtime[Context] | None = None, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The HTTP entrypoint; its lifespan starts and stops `runtime` (a new one unless given)."""
    runtime = runtime or create_runtime(settings, create_context(settings))
    app = create_http_app(runtime, create_router(runtime), authenticator=authenticator)
    install_problems(app)
    return app
