"""The subsidy service's process: subscriptions to the answers it waits for, the deadline timer, the HTTP API."""

from __future__ import annotations

import asyncio
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
from services.subsidy.trust import TrustFiles

SQL = Path(__file__).parent / "sql"


class SubsidyRuntime(Runtime):
    """The kit's runtime plus the deadline timer, which runs exactly while the service does."""

    def __init__(self, settings: SubsidySettings, context: Context) -> None:
        super().__init__(settings, SQL)
        self.context = context
        self._timer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await super().start()
        self._timer = asyncio.create_task(timer.run(self), name="subsidy-deadline-timer")

    async def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
        await super().stop()


def create_runtime(settings: SubsidySettings) -> SubsidyRuntime:
    """The service with its subscriptions: benefits' assessments and activation's plan checks."""
    context = Context(
        settings=settings,
        rulebook=Rulebook.load(settings.rules_dir),
        links=RepresentativeLinks.from_settings(settings.link_keys, settings.link_seal_keys),
        trust=TrustFiles(settings.trust_anchors, settings.trust_intermediates, settings.trust_crls),
        keys=KeyWrap(settings.data_key_keks, setting="SUBSIDY_DATA_KEY_KEKS"),
    )
    runtime = SubsidyRuntime(settings, context)
    runtime.retain(*store.RETAINED)
    runtime.consume(
        benefits.ASSESSMENTS,
        group="subsidy.assessments",
        catalog=EVENT_TYPES,
        handlers={
            benefits.CitizenAssessed: partial(handlers.on_citizen_assessed, context),
            benefits.CitizenErased: partial(handlers.on_citizen_erased, context),
        },
    )
    runtime.consume(
        activation.TOPIC,
        group="subsidy.plan-checks",
        catalog=EVENT_TYPES,
        handlers={activation.ActivationChecked: partial(handlers.on_activation_checked, context)},
    )
    return runtime


def create_app(
    settings: SubsidySettings, runtime: SubsidyRuntime | None = None, *, authenticator: Authenticator | None = None
) -> FastAPI:
    """The HTTP entrypoint; its lifespan starts and stops `runtime` (a new one unless given)."""
    runtime = runtime or create_runtime(settings)
    app = create_http_app(
        runtime,
        api.create_router(runtime),
        authenticator=authenticator,
        description="Signed applications for internships and wage-subsidy jobs, and their decision.",
        version="1",
    )
    api.install_problems(app)
    return app
