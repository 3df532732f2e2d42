"""Tracing with OpenTelemetry: one trace from an HTTP request through the outbox and every Kafka hop.

A trace starts at HTTP ingress (FastAPI's instrumentation, installed by `create_http_app`). An event written in a
span carries that span's W3C `traceparent`: stored with its outbox row and sent as the CloudEvents `ce_traceparent`
header. A consumer handles each event in a span that is the child of it (`handling`), so what the handler publishes
continues the trace.

Export is OTLP over HTTP to `otlp_traces_endpoint`; without one no SDK is installed and the API's no-op tracer
costs next to nothing: an incoming `traceparent` is passed on unchanged, none is made up. Tracing never fails a
handler: a malformed `traceparent` starts a new trace instead.
"""

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import context, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.envelope import Metadata
from jobbro.settings import ServiceSettings

log = structlog.get_logger(__name__)

TRACEPARENT_HEADER = "traceparent"
_W3C = TraceContextTextMapPropagator()
UNTRACED = "health/.*,metrics"
"""Paths whose requests start no trace: probes and scrapes would drown the traces that matter."""


def tracer() -> trace.Tracer:
    """The kit's tracer (the global provider's, looked up at each use, so a provider set later is used)."""
    return trace.get_tracer("jobbro")


def configure(settings: ServiceSettings) -> TracerProvider | None:
    """Export spans over OTLP/HTTP when `otlp_traces_endpoint` is set; the provider, for `shutdown` at stop."""
    if not settings.otlp_traces_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_traces_endpoint)))
    trace.set_tracer_provider(provider)
    log.info("tracing_exported", endpoint=settings.otlp_traces_endpoint)
    return provider


def current_traceparent(fallback: str | None = None) -> str | None:
    """The W3C `traceparent` of the span in progress, else `fallback` (an event's own, passed on)."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT_HEADER, fallback)


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the span in progress as a `traceparent` header (an outgoing HTTP request, such as a webhook)."""
    _W3C.inject(headers)


def _parent(traceparent: str | None) -> context.Context | None:
    """The context to continue from an event's `traceparent`; None (a new trace) when it is missing or malformed."""
    if not traceparent:
        return None
    extracted = _W3C.extract({TRACEPARENT_HEADER: traceparent})
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


@contextmanager
def handling(meta: Metadata, *, topic: str, group: str) -> Iterator[trace.Span]:
    """A consumer span for one event, the child of the span that published it."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.message.id": str(meta.id),
        "cloudevents.event_type": meta.type,
        "cloudevents.event_subject": meta.subject,
    }
    with tracer().start_as_current_span(
        f"process {meta.type}", context=_parent(meta.traceparent), kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


@contextmanager
def continuing(name: str, traceparent: str | None, **attributes: Any) -> Iterator[trace.Span]:
    """An internal span continuing the trace of `traceparent` (work done later for an event, such as a delivery)."""
    with tracer().start_as_current_span(name, context=_parent(traceparent), attributes=attributes) as span:
        yield span
