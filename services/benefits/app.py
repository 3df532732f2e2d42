"""The benefits service's wiring: its context, its subscriptions, and its HTTP app."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from contracts import payments, subsidy
from contracts.catalog import EVENT_TYPES
from jobbro.principal import Authenticator
from jobbro.runtime import Runtime, create_http_app
from jobbro.shredding import KeyWrap
from rules import Rulebook
from services.benefits import api, handlers
from services.benefits.cpr import CprCipher
from services.benefits.handlers import Context
from services.benefits.settings import BenefitsSettings

SQL = Path(__file__).parent / "sql"


def create_context(settings: BenefitsSettings) -> Context:
    """Rule data, CPR cipher and pseudonym key, read once at start-up."""
    return Context(
        rulebook=Rulebook.load(settings.rules_dir),
        cipher=CprCipher(settings.cpr_keys, KeyWrap(settings.data_key_keks, setting="BENEFITS_DATA_KEY_KEKS")),
        pseudonym_key=settings.pseudonym_key,
    )


def create_runtime(settings: BenefitsSettings, ctx: Context) -> Runtime:
    """Assessment, placements (with their wage reports, in order) and settlements, each its own consumer group."""
    runtime = Runtime(settings, SQL)
    runtime.consume(
        subsidy.TOPIC,
        group="benefits.assessment",
        catalog=EVENT_TYPES,
        handlers={
            subsidy.ApplicationSubmitted: partial(handlers.on_application_submitted_v1, ctx=ctx),
            subsidy.ApplicationSubmittedV2: partial(handlers.on_application_submitted, ctx=ctx),
        },
    )
    runtime.consume(
        subsidy.TOPIC,
        group="benefits.placements",
        catalog=EVENT_TYPES,
        handlers={
            subsidy.PlacementConfirmed: partial(handlers.on_placement_confirmed, ctx=ctx),
            subsidy.PlacementExtended: partial(handlers.on_placement_extended, ctx=ctx),
            subsidy.PlacementHoursChanged: partial(handlers.on_placement_hours_changed, ctx=ctx),
            subsidy.PlacementEnded: partial(handlers.on_placement_ended, ctx=ctx),
            subsidy.WageReportSubmitted: partial(handlers.on_wage_report_submitted, ctx=ctx),
        },
    )
    runtime.consume(
        payments.TOPIC,
        group="benefits.settlements",
        catalog=EVENT_TYPES,
        handlers={
            payments.PaymentSettled: partial(handlers.on_payment_settled, ctx=ctx),
            payments.PaymentFailed: partial(handlers.on_payment_failed, ctx=ctx),
        },
    )
    runtime.metrics.query_gauge(
        "jobbro_payment_instructions",
        "Payment instructions of this month and the last by month and state: a payment run's progress and its"
        " settlements.",
        ["month", "state"],
        """SELECT to_char(month, 'YYYY-MM'), state, count(*) FROM payment_instructions
           WHERE month >= date_trunc('month', now()) - interval '1 month' GROUP BY 1, 2""",
        lambda: runtime.pool,
    )
    return runtime


def create_app(settings: BenefitsSettings, *, authenticator: Authenticator | None = None) -> FastAPI:
    """The process: subscriptions, outbox relay and the admin and ledger endpoints, owned by the app's lifespan."""
    ctx = create_context(settings)
    runtime = create_runtime(settings, ctx)
    return create_http_app(runtime, api.router(runtime, ctx), authenticator=authenticator)
