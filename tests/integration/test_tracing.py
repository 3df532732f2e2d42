"""One trace across the services: subsidy, benefits, activation and notify in this process on real Kafka and
PostgreSQL, their spans caught by the SDK's in-memory exporter."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from contracts.activation import ActivationChecked
from contracts.benefits import CitizenAssessed
from contracts.notify import TOPIC as NOTIFICATIONS
from contracts.notify import NotificationSent
from contracts.subsidy import ApplicationSubmittedV2, RepresentativeApprovalRequested
from jobbro.infra import Infrastructure
from jobbro.testing import create_database, drop_database, read_events, running
from services.activation.app import create_app as activation_app
from services.activation.settings import ActivationSettings
from services.benefits.app import create_app as benefits_app
from services.benefits.settings import BenefitsSettings
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.subsidy.app import create_app as subsidy_app
from services.subsidy.app import create_runtime as subsidy_runtime
from services.subsidy.settings import SubsidySettings
from services.subsidy.signing import sign
from tests.example.process import free_port
from tests.identity import Callers
from tests.notify.dns import FakeDns
from tests.notify.integration.conftest import Mailbox
from tests.subsidy.factories import TODAY, internship, make_pki
from tests.subsidy.integration.conftest import rules_with_rates
from tests.tracing import parent_of, recording, trace_of, traceparent_ids

_QUICK: dict[str, Any] = {"outbox_poll_seconds": 0.1, "retry_base_seconds": 0.05}


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


async def _databases(infra: Infrastructure, stack: AsyncExitStack, count: int) -> list[str]:
    dsns = [await create_database(infra) for _ in range(count)]
    for dsn in dsns:
        stack.push_async_callback(drop_database, infra, dsn)
    return dsns


def _ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    """The names from the span up to the trace's root (fails when a parent is missing)."""
    names = [span.name]
    while span.parent is not None:
        span = parent_of(span, spans)
        names.append(span.name)
    return names


async def test_one_trace_runs_from_the_submission_through_every_kafka_hop_into_the_notices(
    infra: Infrastructure, topic_prefix: str, oidc_issuer: str, callers: Callers, tmp_path: Path
) -> None:
    recording()
    kafka = infra.kafka.settings()
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    box, smtp_port = Mailbox(), free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    async with AsyncExitStack() as stack:
        stack.callback(smtp.stop)
        subsidy_db, benefits_db, activation_db, notify_db = await _databases(infra, stack, 4)
        common = {**kafka, "topic_prefix": topic_prefix, "oidc_issuer": oidc_issuer, **_QUICK}
        subsidy = SubsidySettings(
            pg_dsn=subsidy_db,
            rules_dir=rules_with_rates(tmp_path / "rules", TODAY + timedelta(days=120)),
            trust_anchors=pki.anchors,
            trust_crls=(pki.crl,),
            **common,
        )
        await stack.enter_async_context(_serving(benefits_app(BenefitsSettings(pg_dsn=benefits_db, **common))))
        await stack.enter_async_context(_serving(activation_app(ActivationSettings(pg_dsn=activation_db, **common))))
        notify = NotifySettings(
            pg_dsn=notify_db,
            smtp_port=smtp_port,
            digital_post_dir=tmp_path / "digital-post",
            delivery_poll_seconds=0.05,
            **common,
        )
        await stack.enter_async_context(_serving(notify_app(notify, resolver=FakeDns())))
        runtime = subsidy_runtime(subsidy)
        await stack.enter_async_context(running(runtime))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=subsidy_app(subsidy, runtime)), base_url="http://s")
        )

        employer = pki.employer()
        form = internship(employer, employees=12)
        response = await client.post(
            "/v1/applications",
            json={"application": form, "signature": sign(form, employer.signer.key, [employer.signer.cert])},
            headers={**callers.employer(employer.cvr), "Idempotency-Key": str(uuid4())},
        )
        assert response.status_code == 201, response.text
        application_id = response.json()["id"]

        sent = [
            (meta, event)
            for meta, event in await read_events(infra.kafka, topic_prefix + NOTIFICATIONS, expect=1)
            if isinstance(event, NotificationSent) and str(event.application_id) == application_id
        ]
        assert sent, "notify sent no notice about the application"
        assert all(meta.traceparent for meta, _ in sent)
        trace_id = traceparent_ids(sent[0][0].traceparent)[0]  # type: ignore[arg-type]
        wanted = {
            f"process {CitizenAssessed.type}",  # subsidy, handling benefits' answer
            f"process {ActivationChecked.type}",  # subsidy, handling activation's answer
        }
        deadline = asyncio.get_running_loop().time() + 60
        while not wanted <= {span.name for span in trace_of(trace_id)}:
            assert asyncio.get_running_loop().time() < deadline, sorted(span.name for span in trace_of(trace_id))
            await asyncio.sleep(0.1)

    spans = trace_of(trace_id)
    [root] = [span for span in spans if span.parent is None]
    assert root.kind is SpanKind.SERVER and root.name == "POST /v1/applications"
    for meta, _ in sent:  # each notice's event was written in its delivery's span, which continues the trace
        trace, span_id = traceparent_ids(meta.traceparent)  # type: ignore[arg-type]
        [delivery] = [span for span in spans if span.context.span_id == span_id]
        assert trace == trace_id and delivery.name == "deliver email"
        assert _ancestors(delivery, spans)[-1] == "POST /v1/applications"
    groups = {
        str(span.attributes["messaging.consumer.group.name"]).removeprefix(topic_prefix)
        for span in spans
        if span.kind is SpanKind.CONSUMER and span.name == f"process {ApplicationSubmittedV2.type}"
    }
    assert {"benefits.assessment", "activation.plans", f"notify.{ApplicationSubmittedV2.topic}"} <= groups
    assert f"process {RepresentativeApprovalRequested.type}" in {span.name for span in spans}
    answered = [span for span in spans if span.name in wanted]  # two hops: subsidy → benefits/activation → subsidy
    assert {tuple(_ancestors(span, spans)[1:2]) for span in answered} == {(f"process {ApplicationSubmittedV2.type}",)}
