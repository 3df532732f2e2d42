"""One trace across the services: subsidy, benefits, activation and notify in this process on real Kafka and
PostgreSQL, their spans caught by the SDK's in-memory exporter."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from contracts.activation import ActivationChecked
from contracts.benefits import PAYMENT_INSTRUCTIONS, CitizenAssessed, PaymentInstructionIssuedV2
from contracts.notify import TOPIC as NOTIFICATIONS
from contracts.notify import NotificationSent
from contracts.payments import PaymentSettled
from contracts.subsidy import (
    ApplicationApproved,
    ApplicationSubmittedV2,
    PlacementConfirmed,
    RepresentativeApprovalRequested,
    WageReportSubmitted,
)
from demo.backoffice import BackofficeSettings
from demo.backoffice import create_runtime as backoffice_runtime
from jobbro.infra import Infrastructure
from jobbro.runtime import Runtime
from jobbro.testing import create_database, drop_database, read_events, running
from rules import months_later
from services.activation.app import create_app as activation_app
from services.activation.settings import ActivationSettings
from services.benefits.app import create_context
from services.benefits.app import create_runtime as benefits_runtime_of
from services.benefits.handlers import Context, import_citizens
from services.benefits.registry import ImportFormat, parse
from services.benefits.settings import BenefitsSettings
from services.notify.app import create_app as notify_app
from services.notify.app import create_context as notify_context
from services.notify.app import create_runtime as notify_runtime_of
from services.notify.settings import NotifySettings
from services.subsidy import store as subsidy_store
from services.subsidy.app import create_app as subsidy_app
from services.subsidy.app import create_context as subsidy_context
from services.subsidy.app import create_runtime as subsidy_runtime
from services.subsidy.schemas import confirmation_document
from services.subsidy.settings import SubsidySettings
from services.subsidy.signing import sign
from tests.benefits.factories import import_row
from tests.example.process import free_port
from tests.identity import Callers
from tests.notify.dns import FakeDns
from tests.notify.integration.conftest import Mailbox, TracedReceiver, serving
from tests.subsidy.factories import TODAY, Employer, Pki, internship, make_pki, wage_subsidy
from tests.subsidy.integration.conftest import rules_with_rates
from tests.tracing import parent_of, recording, trace_of, traceparent_ids

_QUICK: dict[str, Any] = {"outbox_poll_seconds": 0.1, "retry_base_seconds": 0.05}
_APPLICATION = "/v1/applications/{application_id}"


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


@dataclass
class _Stack:
    """Subsidy (its HTTP API as `client`), benefits, activation, notify (its HTTP API as `notify`) and the
    payment back-office, each on its own database."""

    client: httpx.AsyncClient
    notify: httpx.AsyncClient
    pki: Pki
    subsidy: Runtime
    benefits: Runtime
    benefits_ctx: Context


@asynccontextmanager
async def _services(
    infra: Infrastructure, topic_prefix: str, oidc_issuer: str, tmp_path: Path, webhook_port: int | None = None
) -> AsyncIterator[_Stack]:
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    smtp_port = free_port()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    async with AsyncExitStack() as stack:
        stack.callback(smtp.stop)
        subsidy_db, benefits_db, activation_db, notify_db, backoffice_db = await _databases(infra, stack, 5)
        common = {**infra.kafka.settings(), "topic_prefix": topic_prefix, "oidc_issuer": oidc_issuer, **_QUICK}
        subsidy = SubsidySettings(
            pg_dsn=subsidy_db,
            rules_dir=rules_with_rates(tmp_path / "rules", TODAY + timedelta(days=120)),
            trust_anchors=pki.anchors,
            trust_crls=(pki.crl,),
            **common,
        )
        benefits = BenefitsSettings(pg_dsn=benefits_db, **common)
        benefits_ctx = create_context(benefits)
        benefits_runtime = await stack.enter_async_context(running(benefits_runtime_of(benefits, benefits_ctx)))
        await stack.enter_async_context(_serving(activation_app(ActivationSettings(pg_dsn=activation_db, **common))))
        await stack.enter_async_context(running(backoffice_runtime(BackofficeSettings(pg_dsn=backoffice_db, **common))))
        webhooks: dict[str, Any] = {"webhook_require_https": False}
        if webhook_port is not None:
            webhooks["webhook_allowed_targets"] = (f"127.0.0.1:{webhook_port}",)
        notify = NotifySettings(
            pg_dsn=notify_db,
            smtp_port=smtp_port,
            digital_post_dir=tmp_path / "digital-post",
            delivery_poll_seconds=0.05,
            **webhooks,
            **common,
        )
        notify_runtime = notify_runtime_of(notify, notify_context(notify, resolver=FakeDns()))
        notified = notify_app(notify, notify_runtime)
        await stack.enter_async_context(_serving(notified))
        runtime = subsidy_runtime(subsidy, subsidy_context(subsidy))
        await stack.enter_async_context(running(runtime))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=subsidy_app(subsidy, runtime)), base_url="http://s")
        )
        notify_client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=notified), base_url="http://n")
        )
        yield _Stack(client, notify_client, pki, runtime, benefits_runtime, benefits_ctx)


async def test_one_trace_runs_from_the_submission_through_every_kafka_hop_into_the_notices(
    infra: Infrastructure, topic_prefix: str, oidc_issuer: str, callers: Callers, tmp_path: Path
) -> None:
    recording()
    async with _services(infra, topic_prefix, oidc_issuer, tmp_path) as services:
        client, pki = services.client, services.pki
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
            assert asyncio.get_running_loop().time() < deadline, sorted(
                f"{span.name} {span.attributes.get('jobbro.template', '')}" for span in trace_of(trace_id)
            )
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


async def test_a_case_is_one_trace_from_its_submission_to_its_payment_instruction_settlement_and_notices(
    infra: Infrastructure, topic_prefix: str, oidc_issuer: str, callers: Callers, tmp_path: Path
) -> None:
    exporter = recording()
    start = months_later(TODAY.replace(day=1), -1)  # last month: over, so it can be reported
    receiver = TracedReceiver()
    async with (
        serving(receiver, receiver_port := free_port()) as receiver_url,
        _services(infra, topic_prefix, oidc_issuer, tmp_path, webhook_port=receiver_port) as services,
    ):
        client, employer = services.client, services.pki.employer()
        headers = callers.employer(employer.cvr)
        subscribed = await services.notify.post(
            "/v1/webhooks/subscriptions",
            json={"url": receiver_url, "event_types": [PlacementConfirmed.type], "secret": receiver.secret},
            headers=callers.integrator(PlacementConfirmed.type),
        )
        assert subscribed.status_code == 201, subscribed.text
        form = wage_subsidy(employer, start=start, end=months_later(start, 4) - timedelta(days=1))
        async with services.benefits.unit_of_work() as uow:  # the citizen in benefits' registry
            rows = parse(json.dumps([import_row(cpr=form["citizen"]["cpr"])]).encode(), ImportFormat.JSON)
            await import_citizens(rows, "test", uow, services.benefits_ctx)
            await uow.commit()
        application = await _submit(client, form, employer, headers)
        url = f"/v1/applications/{application['id']}"
        await _until(client, url, headers, "referred")  # it started before the decision
        exception = {"justification": "Hired under the jobcentre's written promise before the application."}
        approved = await client.post(  # each later step is a request of its own
            url + "/caseworker-decision",
            json={"approve": True, "remark": "ok", "start_exception": exception},
            headers=callers.caseworker(),
        )
        assert approved.json()["state"] == "approved", approved.text
        document = confirmation_document(UUID(application["id"]), employer.cvr)
        signature = sign(document, employer.signer.key, [employer.signer.cert])
        confirmed = await client.post(url + "/confirmation", json={"signature": signature}, headers=headers)
        assert confirmed.json()["state"] == "confirmed", confirmed.text
        body = {"month": f"{start:%Y-%m}", "paid_hours": "150.00", "wage_costs_ore": 3_000_000}
        reported = await client.post(url + "/wage-reports", json=body, headers=headers)
        assert reported.status_code == 201, reported.text

        [(meta, instruction)] = [
            (meta, event)
            for meta, event in await read_events(infra.kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=1)
            if isinstance(event, PaymentInstructionIssuedV2) and str(event.application_id) == application["id"]
        ]
        async with services.subsidy.pool.acquire() as conn:
            case = await subsidy_store.case_trace(conn, UUID(application["id"]))
        assert case is not None and meta.traceparent is not None
        trace_id, submitted_in = traceparent_ids(case)
        wanted = {f"process {PaymentSettled.type}", "deliver webhook"}  # the back-office's settlement, handled
        deadline = asyncio.get_running_loop().time() + 60
        while not wanted <= {span.name for span in trace_of(trace_id)} or not _payment_notices(trace_of(trace_id)):
            assert asyncio.get_running_loop().time() < deadline, sorted(
                f"{span.name} {span.attributes.get('jobbro.template', '')}" for span in trace_of(trace_id)
            )
            await asyncio.sleep(0.1)

    spans = trace_of(trace_id)
    [root] = [span for span in spans if span.parent is None]
    assert root.kind is SpanKind.SERVER and root.name == "POST /v1/applications"
    assert root.context.span_id == submitted_in  # the case's trace is its submission's, kept with the application
    payment_trace, span_id = traceparent_ids(meta.traceparent)
    assert payment_trace == trace_id
    [written_in] = [span for span in spans if span.context.span_id == span_id]
    assert written_in.name == f"process {WageReportSubmitted.type}" and written_in.kind is SpanKind.CONSUMER
    wage_report = f"POST {_APPLICATION}/wage-reports"
    assert _ancestors(written_in, spans)[1:] == [wage_report, "POST /v1/applications"]
    for step in ("caseworker-decision", "confirmation", "wage-reports"):  # linked with the step's own request
        [in_case] = [span for span in spans if span.name == f"POST {_APPLICATION}/{step}"]
        assert in_case.kind is SpanKind.INTERNAL and parent_of(in_case, spans).context.span_id == root.context.span_id
        [link] = in_case.links
        [request] = [span for span in exporter.get_finished_spans() if span.context.span_id == link.context.span_id]
        assert request.kind is SpanKind.SERVER and request.context.trace_id != trace_id
        assert [back.context.span_id for back in request.links] == [in_case.context.span_id]
    names = {span.name for span in spans}
    assert {f"process {PlacementConfirmed.type}", f"process {ApplicationApproved.type}"} <= names
    notices = _payment_notices(spans)
    assert notices and all(_ancestors(span, spans)[-1] == "POST /v1/applications" for span in notices)
    [sent] = receiver.traceparents  # the integrator's webhook of the confirmation carries the case's trace on
    assert sent is not None and traceparent_ids(sent)[0] == trace_id
    [webhook] = [span for span in spans if span.context.span_id == traceparent_ids(sent)[1]]
    assert webhook.name == "deliver webhook" and _ancestors(webhook, spans)[-1] == "POST /v1/applications"
    assert instruction.payee_cvr == employer.cvr


def _payment_notices(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """The delivery spans of the employer's notice that their subsidy is paid."""
    return [span for span in spans if str(span.attributes.get("jobbro.template", "")).startswith("payment-issued.")]


async def _submit(
    client: httpx.AsyncClient, form: dict[str, Any], employer: Employer, headers: dict[str, str]
) -> dict[str, Any]:
    signature = sign(form, employer.signer.key, [employer.signer.cert])
    response = await client.post(
        "/v1/applications",
        json={"application": form, "signature": signature},
        headers={**headers, "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _until(client: httpx.AsyncClient, url: str, headers: dict[str, str], state: str) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while (found := (await client.get(url, headers=headers)).json())["state"] != state:
        assert asyncio.get_running_loop().time() < deadline, found["history"]
        await asyncio.sleep(0.1)
