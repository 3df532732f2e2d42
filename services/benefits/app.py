"""The benefits service's wiring: its context, its subscriptions, and its HTTP app."""

from functools import partial
from pathlib import Path

import structlog
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
from services.benefits.payees import PayeeKeys, payee_key_sealer
from services.benefits.settings import BenefitsSettings
from services.benefits.store import PgBenefits

SQL = Path(__file__).parent / "sql"
log = structlog.get_logger()


def create_context(settings: BenefitsSettings) -> Context:
    """Rule data, CPR cipher, pseudonym key, data keys and payee keys, read once at start-up."""
    data_keys = KeyWrap(settings.data_key_keks, setting="BENEFITS_DATA_KEY_KEKS")
    return Context(
        rulebook=Rulebook.load(settings.rules_dir),
        cipher=CprCipher(settings.cpr_keys, data_keys),
        pseudonym_key=settings.pseudonym_key,
        payees=PayeeKeys(data_keys, payee_key_sealer(settings.payee_key_keks, setting="BENEFITS_PAYEE_KEY_KEKS")),
        data_keys=data_keys,
    )


def create_runtime(settings: BenefitsSettings, context: Context) -> Runtime[Context]:
    """Assessment, placements (with their wage reports, in order) and settlements, each its own consumer group."""
    runtime = Runtime(settings, SQL, context, store=partial(PgBenefits, keys=context.data_keys))
    runtime.consume(
        subsidy.TOPIC,
        group="benefits.assessment",
        catalog=EVENT_TYPES,
        handlers={
            subsidy.ApplicationSubmitted: handlers.on_application_submitted_v1,
            subsidy.ApplicationSubmittedV2: handlers.on_application_submitted,
        },
    )
    runtime.consume(
        subsidy.TOPIC,
        group="benefits.placements",
        catalog=EVENT_TYPES,
        handlers={
            subsidy.PlacementConfirmed: handlers.on_placement_confirmed,
            subsidy.PlacementExtended: handlers.on_placement_extended,
            subsidy.PlacementHoursChanged: handlers.on_placement_hours_changed,
            subsidy.PlacementEnded: handlers.on_placement_ended,
            subsidy.WageReportSubmitted: handlers.on_wage_report_submitted,
        },
    )
    runtime.consume(
        payments.TOPIC,
        group="benefits.settlements",
        catalog=EVENT_TYPES,
        handlers={
            payments.PaymentSettled: handlers.on_payment_settled,
            payments.PaymentFailed: handlers.on_payment_failed,
        },
    )
    runtime.run_beside("benefits-seal-registry", partial(_seal_registry, runtime))
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


async def _seal_registry(runtime: Runtime[Context]) -> None:
    """Migration 0006's data step at every start: seal what rows imported before it hold in clear (none: at once)."""
    try:
        sealed = await handlers.seal_registry(runtime.unit_of_work, runtime.context)
    except Exception:  # a task beside the service: its failure is logged, and the next start tries again
        log.exception("registry_not_sealed")
        return
    if sealed:
        log.info("registry_sealed", citizens=sealed)


def create_app(
    settings: BenefitsSettings, runtime: Runtime[Context] | None = None, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The process: subscriptions, outbox relay and the admin and ledger endpoints, owned by the app's lifespan
    (of `runtime`, a new one unless given)."""
    runtime = runtime or create_runtime(settings, create_context(settings))
    app = create_http_app(runtime, api.create_router(runtime), authenticator=authenticator)
    api.install_problems(app)
    return app
